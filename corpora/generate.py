#!/usr/bin/env python3
"""Generate Quill's default corpus: English text about Kettlecove, an invented fishing village.

Every word of the output is written by this script and its lexicon (corpora/lexicon.txt), both part of the Quill
project; no outside text is used or imitated. A small stochastic grammar -- templates with `{slot}` references and
inline `[a|b|c]` choices, expanded recursively, with Zipf-weighted word lists -- writes short documents of many
kinds: fairy tales ("Once upon a time ..."), diary entries ("In the morning the ..."), weather reports ("The weather
today is ..."), recipes and instructions ("To make bread you need ..."), dialogues between villagers, descriptions of
places, letters, sayings, school lessons, nature notes, notices, market days, kitchens, boats, the seasons and
remedies. The same people (Tom the old fisherman, Martha the baker, Miss Fenwick the teacher, Jonas the lighthouse
keeper, Granny Bess, the children ...), places and animals recur, so that a small language model can learn the
phrases of this world, while the slots keep the sentences varied.

Output: DIR/train.txt and DIR/valid.txt -- UTF-8, LF line endings, one paragraph (1-5 sentences) per line, a final
newline. Both files are written by the same process from different seeds (different documents). Only the standard
library is used and the output is deterministic: the same bytes on every run and machine (seeded random.Random, no
iteration over sets, no clock, no network).

    python3 corpora/generate.py           # writes corpora/default/{train,valid}.txt and prints statistics
    python3 corpora/generate.py --stats   # only prints statistics of the existing files
"""
import argparse
import hashlib
import os
import random
import re
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
SPLITS = {"train": ("quill-default-train-1", 360_000), "valid": ("quill-default-valid-1", 36_000)}  # seed, bytes
PROMPTS = ["once upon a time", "the old fisherman", "in the morning the", "she opened the", "the weather today",
           "to make bread you"]


# ---------------------------------------------------------------------------------------------------- the grammar
def alternatives(text):
    """Splits 'a|b [c|d]|e' at the '|' that are not inside brackets: ['a', 'b [c|d]', 'e']."""
    out, depth, cur = [], 0, ""
    for ch in text:
        depth += (ch == "[") - (ch == "]")
        if ch == "|" and depth == 0:
            out, cur = out + [cur], ""
        else:
            cur += ch
    return [x.strip() for x in out + [cur] if x.strip()]


def L(text):
    """A list written in the code as 'a|b|c'."""
    return alternatives(re.sub(r"\s+", " ", text))


def lexicon(text):
    """Parses 'name: a|b|c' entries; an indented line continues the entry above it; '#' starts a comment line."""
    entries, name = {}, None
    for line in text.split("\n"):
        if not line.strip() or line.startswith("#"):
            continue
        if line[:1].isspace():
            entries[name] += " " + line.strip()
        else:
            name, _, value = line.partition(":")
            entries[name] = value.strip()
    return {k: alternatives(v) for k, v in entries.items()}


with open(os.path.join(HERE, "lexicon.txt"), encoding="utf-8") as _f:
    G = lexicon(_f.read())  # word lists and phrase templates; lexicon.txt explains the notation


def weather_pair(rng, ctx):
    """Two different weather words that go together: 'cold and windy', 'warm and still'."""
    group = rng.choice([L("warm|bright|sunny|dry|clear|mild|still|hot|pleasant|calm"),
                        L("fresh|breezy|bright|sunny|clear|dry|cool|blustery"),
                        L("cold|grey|wet|windy|damp|chilly|stormy|cloudy|blustery|frosty|gloomy|raw|wild|dull"),
                        L("foggy|misty|damp|grey|still|dull|cold|murky")])
    return "{} and {}".format(*rng.sample(group, 2))


G["wpair"] = weather_pair
G["adj2"] = lambda rng, ctx: "{} and {}".format(*rng.sample(G["a_adj2"], 2))


def pick(rng, items, zipf=0.6):
    """Chooses from a list with weights 1/rank**zipf, so that early items are common and later ones rare."""
    return rng.choices(items, weights=[1.0 / (i + 1) ** zipf for i in range(len(items))])[0]


BRACKET, SLOT = re.compile(r"\[([^\[\]]*)\]"), re.compile(r"\{(\w+)\}")


def expand(rng, text, ctx):
    """Resolves [a|b] choices (innermost first) and {slot} references until none is left."""
    for _ in range(5000):
        m = BRACKET.search(text)
        if m:
            text = text[:m.start()] + rng.choice(m.group(1).split("|")) + text[m.end():]
            continue
        m = SLOT.search(text)
        if not m:
            return text
        text = text[:m.start()] + resolve(rng, m.group(1), ctx) + text[m.end():]
    raise RuntimeError("runaway template: " + text)


def resolve(rng, key, ctx):
    """The expansion of {key}: from the context first, then the lexicon; {Key} gives it a capital letter."""
    if key not in ctx and key not in G and key[0].isupper():
        value = resolve(rng, key[0].lower() + key[1:], ctx)
        return value[:1].upper() + value[1:]
    value = ctx[key] if key in ctx else G[key]
    if callable(value):
        value = value(rng, ctx)
    elif isinstance(value, list):
        used, choice = ctx.setdefault("_used", set()), pick(rng, value)
        for _ in range(4 if key not in ctx else 0):  # avoid repeating a lexicon word within a document
            if (key, choice) not in used:
                break
            choice = pick(rng, value)
        used.add((key, choice))
        value = choice
    return expand(rng, value, ctx)


# ---------------------------------------------------------------------------------------------------- the people
# Name, sex, ways to refer to them, weight (how often they appear). Their work is in the lexicon ("work Tom: ...");
# the children share "kid_work".
PEOPLE = [("Tom", "m", "the old fisherman|old Tom|the old fisherman|Tom Harrow|Tom", 7),
          ("Martha", "f", "the baker|Martha Penrose|Martha", 3),
          ("Ada", "f", "the teacher|Miss Fenwick|Ada Fenwick", 2),
          ("Jonas", "m", "the lighthouse keeper|Jonas Reed|old Jonas", 2),
          ("Hugh", "m", "the miller|Hugh Tanner|Hugh", 1),
          ("Bess", "f", "Granny Bess|old Bess|Lily's grandmother", 1),
          ("Walter", "m", "the farmer|Walter Crane|Walter", 1),
          ("Clara", "f", "the shopkeeper|Clara Moss|Clara", 1)]
PEOPLE += [(n, s, f"{n}|little {n}", 1) for n, s in zip("Lily Sam Rosie Ben Nell Finn Kit".split(), "fmfmfmf")]
CHILDREN = [p for p in PEOPLE if "work " + p[0] not in G]
ADULTS = [p for p in PEOPLE if p not in CHILDREN]
BY_NAME = {p[0]: p for p in PEOPLE}
PRON = {"m": ("he", "his", "him"), "f": ("she", "her", "her")}

IRREGULAR = dict(w.split(":") for w in """go:went see:saw take:took make:made sing:sang swim:swam run:ran come:came
    bring:brought buy:bought catch:caught sell:sold tell:told find:found hear:heard feel:felt eat:ate sweep:swept
    sit:sat stand:stood write:wrote read:read hang:hung light:lit leave:left give:gave put:put cut:cut throw:threw
    fly:flew draw:drew build:built feed:fed teach:taught dig:dug get:got have:had do:did say:said grind:ground
    drive:drove knit:knitted ring:rang shear:sheared whittle:whittled swing:swung""".split())
DOUBLE = set("run swim sit dig cut put get stop skip mop drop scrub tap wrap hop step tar gut stir chop trim scan knit "
             "label".split())  # verbs that double their last consonant: stirred, stirring


def conj(phrase, form):
    """Conjugates the first word of a verb phrase: 'mend his nets' -> 'mended' (past) or 'mending' (ing)."""
    verb, _, rest = phrase.partition(" ")
    if form == "past":
        verb = IRREGULAR.get(verb) or (verb + "d" if verb.endswith("e") else
                                       verb[:-1] + "ied" if verb.endswith("y") and verb[-2] not in "aeiou" else
                                       verb + verb[-1] + "ed" if verb in DOUBLE else verb + "ed")
    else:
        verb = (verb[:-2] + "ying" if verb.endswith("ie") else verb + verb[-1] + "ing" if verb in DOUBLE else
                verb[:-1] + "ing" if verb.endswith("e") and not verb.endswith("ee") else verb + "ing")
    return verb + " " + rest


def person(rng, prefix="", pool=None, avoid=()):
    """Picks a person; their context: {P} (a varying reference), {name}, {he}, {his}, {him} and their work."""
    pool = [p for p in (pool or PEOPLE) if p[0] not in avoid]
    name, sex, refs, _ = rng.choices(pool, weights=[p[3] for p in pool])[0]
    he, his, him = PRON[sex]
    work = [w.replace("{his}", his) for w in G.get("work " + name, G["kid_work"])]
    ctx = {"P": alternatives(refs), "name": name, "he": he, "his": his, "him": him, "work": work,
           "work_ing": [conj(w, "ing") for w in work], "work_past": [conj(w, "past") for w in work]}
    return {prefix + k: v for k, v in ctx.items()}


def group(rng, n):
    """Context for n different people: the first unprefixed ({P}, {he}), then q_ ({q_P}), then r_."""
    ctx, names = {}, []
    for prefix in ["", "q_", "r_"][:n]:
        c = person(rng, prefix, avoid=names)
        names.append(c[prefix + "name"])
        ctx.update(c)
    return ctx


# ---------------------------------------------------------------------------------------------------- kinds of text
# Each returns (templates of the lines of one document, context for expanding them).
HEROES = [("a poor fisherman", "m", "fisherman"), ("an old fisherman", "m", "old fisherman"),
          ("an old fisherman", "m", "old fisherman"), ("a young baker", "f", "baker"), ("a clever girl", "f", "girl"),
          ("a little boy", "m", "boy"), ("a lonely lighthouse keeper", "m", "lighthouse keeper"),
          ("an old woman", "f", "old woman"), ("a brave sailor", "m", "sailor"), ("a baker's son", "m", "boy"),
          ("a fisherman's daughter", "f", "girl"), ("a kind miller", "m", "miller"), ("a poor widow", "f", "widow"),
          ("a shepherd girl", "f", "girl"), ("a princess", "f", "princess"), ("a tailor with one shoe", "m", "tailor"),
          ("a chimney sweep", "m", "sweep"), ("a woodcutter's daughter", "f", "girl"), ("a fiddler", "m", "fiddler"),
          ("a goose girl", "f", "girl"), ("a ferryman", "m", "ferryman"), ("a weaver", "f", "weaver"),
          ("a shoemaker", "m", "shoemaker"), ("a beekeeper", "f", "beekeeper")]


def story(rng):
    hero, sex, noun = rng.choice(HEROES)
    ctx = dict(zip(("he", "his", "him"), PRON[sex]), noun=noun, hero=["the {noun}", "{he}"])
    return ["Once upon a time, {where}, there lived " + hero + ". {He} {trait}[, and {daily}|, and {daily}|]. ",
            "One {when}, {he} {went} and found {find} {result}", "{coda} {ending}"], ctx


def diary(rng):
    start = pick(rng, ["In the morning the", "This morning the", "Dear diary. In the morning the", "Today the"], 1.2)
    lines = [start + " {morning}[, and {morning2}|]. I went out [early|after breakfast|before school|with my basket] "
             "and saw {P} {work_ing}.[ {He} told me that {report}.|]",
             "[At noon|After lunch|In the afternoon|Later], {diary_mid}[ On the way home I saw {r_P}, who had "
             "{r_work_past} and seemed {feeling}.|]" + ("" if rng.random() < 0.55 else " {diary_extra}")]
    lines.append("In the evening I {evening}. {evening_end}")
    return lines, group(rng, 3)


def weather(rng):
    first = rng.choice(["The weather today is {wpair}, with {wdetail}.",
                        "The weather today will be {wpair} at first, then {wpair}, with {wdetail}.",
                        "Good morning. The weather today is {wpair}, with {wdetail}.",
                        "[Here is the forecast for {day}.|Here is the weather.] The weather today is {wpair}."])
    if rng.random() < 0.1:
        first += f" High tide is at {rng.randint(1, 11)}:{rng.choice(['05', '20', '30', '45'])} this morning."
    more = " ".join(rng.sample(G["wmore"], rng.randint(1, 2)))
    return [first + " " + more, "[Tonight|This evening] it will be {tonight}. Tomorrow will be {wpair}[, "
            "with {wdetail}|], [and|but] {wmore2}."], {}


RECIPES = {"make bread": 14, "make fish soup": 2, "make an apple pie": 2, "make oat cakes": 1, "make pancakes": 2,
           "make plum jam": 1, "make a fish pie": 1, "mend a net": 1, "light the lighthouse lamp": 1, "make a kite": 1}


def recipe(rng):
    what = rng.choices(list(RECIPES), weights=list(RECIPES.values()))[0]
    need, steps, ends = G["need " + what][0], G["steps " + what], G["ends " + what]
    pet = rng.randrange(2)
    ctx = {"pet": ["Bramble", "Pepper"][pet], "pet_him": ["him", "her"][pet],
           "flour": L("two pounds|a big bowl|three cups|four cups|a kilogram"),
           "fish2": L("cod|haddock|whiting|pollock"),
           "extra": L("a spoon of honey|a handful of seeds|a knob of butter|some chopped herbs|a splash of milk")}
    first = rng.choice([f"To {what} you need {need}."] * 6 + [f"If you want to {what}, you need {need}.",
                                                             f"Here is how to {what}. You need {need}."])
    chosen = steps[:2] + [s for s in steps[2:] if rng.random() < 0.8]
    sentences = []
    for i, step in enumerate(chosen):
        word = ("[First|To begin|First of all], " if i == 0 else "[Finally|Last of all|At the end], "
                if i == len(chosen) - 1 else "[Then|Next,|After that,|Now|When that is done,] ")
        sentences.append(word + step + "." + (" {aside}" if 0 < i < len(chosen) - 1 and rng.random() < 0.3 else ""))
    sentences.append(rng.choice(ends))
    rest = sentences[2:]
    cut = len(rest) // 2 if len(rest) >= 4 else len(rest)
    return [first + " " + " ".join(sentences[:2]), " ".join(rest[:cut]), " ".join(rest[cut:])], ctx


TOPICS = [(k.split()[2], k.split()[3], v) for k, v in G.items() if k.startswith("topic ")]  # who, asker, turns


def dialogue(rng):
    who, asker, turns = rng.choice(TOPICS)
    ctx = person(rng, "b_", pool=ADULTS if who == "anybody" else [BY_NAME[who]])
    ctx.update(person(rng, "a_", pool=PEOPLE if asker == "anyone" else ADULTS, avoid=[ctx["b_name"]]))
    kid, pet = rng.choice([c for c in CHILDREN if c[0] != ctx["a_name"]]), rng.choice(range(2))
    ctx.update(other=[p[0] for p in PEOPLE if p[0] not in (ctx["a_name"], ctx["b_name"])],
               child=[c[0] for c in CHILDREN], kid=kid[0], kid_he=PRON[kid[1]][0], pet=["Bramble", "Pepper"][pet],
               pet_he=["he", "she"][pet], pet_him=["him", "her"][pet],
               tool=L("ladder|hammer|saw|spade|wheelbarrow|paintbrush|rake|axe|drill"))
    lines, part = [], rng.choice(["morning", "morning", "afternoon", "evening"])
    for i, turn in enumerate(turns):
        speaker = "ab"[i % 2]
        head, _, rest = expand(rng, turn, ctx).partition(" // ")  # said X between head and rest
        if i == 0 and rng.random() < 0.75:
            head, rest = rng.choice(["Good " + part] * 3 + ["Hello"]) + ", " + ctx["b_name"] + ".", \
                (head + " " + rest).strip()
        if head.endswith("?"):
            verb = "asked" if rng.random() < 0.6 else "said"
        else:
            head, verb = head[:-1] + ",", rng.choice(["said"] * 4 + (["replied", "answered"] if i else ["called"]))
        name = ctx[speaker + "_name"]
        tag = f"{verb} {name}" if rng.random() < 0.6 else f"{name} {verb}"
        if i >= 2 and rng.random() < 0.4:
            tag = f"{ctx[speaker + '_he']} {verb}"
        lines.append(f'"{head}" {tag}.' + (f' "{rest}"' if rest else ""))
    if rng.random() < 0.5:
        lines[0] = expand(rng, f"[On {{day}} {part}|One {part}|That {part}], {{a_name}} met {{b_name}} [near|on the "
                               "way to|down by] {place}. ", ctx) + lines[0]
    return lines, {}


PLACES = {k[len("about "):]: v for k, v in G.items() if k.startswith("about ")}


def description(rng):
    name, feats = rng.choice(list(PLACES.items()))
    feats = rng.sample(feats, rng.randint(2, 3))
    lines = [name[0].upper() + name[1:] + (" are" if name.endswith("s") else " is") + " {adj2}. " + " ".join(feats)]
    if rng.random() < 0.7:
        lines.append("[In {season}|At dawn|On {day}s|In the evening|After the rain], [the light there is {sky_adj} "
                     "and [soft|strange|lovely]|you can hear {sound}|it is the [best|loveliest|quietest] place in "
                     "Kettlecove|it smells of {smell}|nobody is about except {animal}]. [{Bird} fly overhead, and "
                     "{flower} grow nearby.|]")
    return lines, {"bird": G["bird"]}


def letter(rng):
    return ["Dear {q_name}, [thank you for your letter, which came on {day}|I hope you are well|it has been a long "
            "time since I wrote to you, and I am sorry|I am writing this by the window]. [The weather has been "
            "{wpair}, and|Here in Kettlecove] {letter_news}[ Your parcel came on {day}, and Mother was so excited "
            "that she opened the [box|paper|parcel] on the doorstep.|]",
            "[Last week|On {day}|Yesterday] {r_P} {r_work_past}. [I thought you would like to know.|Everybody is "
            "talking about it.|My [uncle|aunt|brother|sister] [has started working for|is learning the trade from] a "
            "{trade} in Brackenford, and [likes it very much|hates getting up early|comes home smelling of {smell}].|] "
            "[How is {letter_thing} in Brackenford?|When will you come home?|Do you still remember the {fish} we "
            "caught together?] [Write back soon.|Give my love to everyone.|Come and see us in {season}.] [With "
            "love|Your friend|Love from your cousin|Yours], {name}."], group(rng, 3)


def sayings(rng):
    lines = [rng.choice(["As {P} always says, \"{saying}\"", "As the old fisherman always says, \"{saying}\"",
                         "There is an old saying in Kettlecove: \"{saying}\"",
                         "{P} has a saying for every day of the week. Today it was this: \"{saying}\"",
                         "The fishermen have a saying: \"{saying}\" [It's true, too.|Nobody knows who said it first.]"])
             + "[ Another one [is|goes like this]: \"{saying2}\"|]"]
    saying, saying2 = rng.sample(G["saying"], 2)
    return lines, dict(person(rng, pool=ADULTS), saying=saying, saying2=saying2)


def lesson(rng):
    q, a = rng.choice(G["lesson"]).split(" = ")
    return ["[In school today|This morning|After the bell], [Miss Fenwick|the teacher] asked [the class|the children|"
            f"us], \"{q}\" [At once|Straight away|After a moment|Quick as a flash], {{P}} put up {{his}} hand. "
            f"\"{a},\" {{he}} said.",
            "\"[Very good|Well done|That's right|Nearly right], {name},\" said [Miss Fenwick|the teacher]. Then she "
            "opened the [window|cupboard|big book], and [we read a story about {fish}|we drew pictures of {bird}|we "
            "did our sums|we sang a song about the sea]. [At playtime [we|the little ones|the big boys|the girls] "
            "played {game}[, and {child} won|]. |]"], dict(person(rng, pool=CHILDREN), child=[c[0] for c in CHILDREN])


def nature(rng):
    return ["[{Month} notes.|Notes for {month}.|Nature diary, {month}.] Today I saw {count} {beast} [in|near|by] "
            "{habitat} and {count} {bird} [on|over|above] {perch}. The {tree} trees are {tree_state}, and the {flower} "
            "are [out|flowering|coming up] along {edge}.", "On the beach I found {shore}, {shore} and {shore}. The air "
            "was {wpair}, and [the bees were busy in the {flower}|there were {beast} tracks in the mud|the {bird} were "
            "quarrelling over a fish|the first {bird} of the year were back].[ On the way home I picked {forage} "
            "in {habitat}.| In the evening we saw {sky_event}.|]"], {}


def notice(rng):
    return ["[A notice on the shop door said|Clara pinned up a notice that said|On the board by the harbour somebody "
            "had written]: \"{notice}\" [Underneath, somebody had added: \"{notice}\"|]"], group(rng, 1)


def visitor(rng):
    ctx = dict(zip(("he", "his", "him"), PRON[rng.choice("mf")]))
    return ["A stranger came to Kettlecove on {day}. {He} was {build}, with {hair} and {face}, and {he} wore a "
            "{colour} {garment}.", "{He} carried {carry} and asked {asked_for}. Nobody knew {his} name, but {rumour}."
            ], ctx


def market(rng):
    return ["[At eight o'clock Clara unlocked her door, and she opened the shutters of the shop. |The baker was late, "
            "but at last she opened the doors of the bakery and put out her loaves. |][On {day}|Last {day}|Every "
            "{day}], the market in the square was [busy|crowded|quiet|noisy]. {P} sold {goods} and {goods}, {q_P} had "
            "a stall of {goods}, and {r_P} bought {goods} [for supper|for {r_his} mother|to take home|for the "
            "festival].", "[Best of all|This time|As usual], {seller} had come from Brackenford, and [the children "
            "crowded round|everybody stopped to look|nobody could afford anything]. [By noon the {goods} had all gone."
            "|A loaf cost [two|three] pennies.|It rained at four, and everybody went home.|]"], group(rng, 3)


def home(rng):
    return ["{Name}'s kitchen is {adj2}. On the dresser there are {crockery} and {crockery}, and by the stove there is "
            "{furniture} where {house_animal} [sleeps|likes to sit]. The window looks out over {view}.",
            "[In {season}|On {day} mornings|After supper], {name} [sits there with a cup of tea|reads the paper "
            "there|sorts {his} letters there] and listens to {sound}."], group(rng, 1)


def boat(rng):
    return ["{Boat_name} is a {colour} {boat_type} with {boat_feature}. [She belongs to {P}, who uses her|{P} bought "
            "her last {season} and uses her|She has belonged to {P} for years and is used] {boat_use}.",
            "[When the weather is {wpair}|On {day} mornings|In {season}], you can see her [tied up by the steps|going "
            "out past the lighthouse|pulled up on the beach|rocking at her mooring], with {boat_feature2} and {count} "
            "{bird} [sitting on her|following her|waiting beside her]."], dict(group(rng, 1),
                                                                          boat_feature2=G["boat_feature"][::-1])


def year(rng):
    season = rng.choice(["spring", "summer", "autumn", "winter"])
    return [f"[In Kettlecove, {season} is|{season.capitalize()} in Kettlecove is|Everybody knows that {season} is] "
            "the season when {first}. It is also when {second}[, and when {third}|].", "[Granny Bess|The old "
            f"fisherman|Miss Fenwick|Walter] says {season} is [the best time of the year|a busy time|too short, every "
            "year|the time for {forage}], [and everybody agrees|and nobody argues|but the children disagree]."], dict(
                zip(["first", "second", "third"], rng.sample(G["year_" + season], 3)))


def remedy(rng):
    return ["[Granny Bess has a remedy for everything.|Ask Granny Bess and she will tell you what to do.|These are "
            "Granny Bess's remedies, and she swears by all of them.] " + " ".join(rng.sample(G["remedy"], 2)),
            "{remedy} [And|But] for [a bad temper|a long face|boredom|a rainy day], [there is nothing like|she "
            "recommends] {meal}."], {}


KINDS = [(story, 22), (diary, 21), (weather, 13), (recipe, 14), (dialogue, 13), (description, 6), (letter, 6),
         (sayings, 3), (lesson, 3), (nature, 4), (notice, 2), (visitor, 2), (market, 3), (home, 2), (boat, 2),
         (year, 2), (remedy, 1)]
RARE = [  # (kind, count in train, sentence): the odd non-ASCII character or number, a handful of times per file.
    # The sentence is appended to the first line of a letter, the last line of a dialogue or recipe, any line of others.
    (letter, 5, "There is a new café in Brackenford, and we had [hot chocolate|tea and cake] there on {day}."),
    (letter, 4, "The sun is out at last ☀️ and [everybody|the whole village] is on the beach."),
    (letter, 4, "Tom caught the biggest fish of the year 🐟 and [everybody|half the village] came to see it."),
    (lesson, 4, "It was a naïve question, perhaps, but nobody laughed."),
    (recipe, 3, "Clara says a chopped jalapeño makes it [hot|much hotter], but nobody in Kettlecove is brave enough."),
    (dialogue, 3, "Later, [Clara|Martha] told everybody that Jonas had written a résumé for the harbour office."),
    (diary, 4, "The coach to Brackenford leaves at 7:30, so I was up before six."),
    (recipe, 3, "For the wedding cake Martha used 12 eggs and 3.5 kilograms of flour."),
    (diary, 3, "The sea was quiet tonight — too quiet, Jonas said."),
    (story, 3, "That night the sea — grey, cold and very deep — lay still under the moon."),
]


# ---------------------------------------------------------------------------------------------------- output
def fix(line):
    """Spacing, a/an, and capital letters at the starts of sentences and quotations."""
    line = re.sub(r" ([,.?!:])", r"\1", re.sub(r"\s+", " ", line).strip())

    def article(m):
        vowel = m.group(2)[0] in "aeiouAEIOU" and not re.match(r"(?i)(one|once|use|usu|uni|eu)", m.group(2)) \
            or re.match(r"(?i)(hour|honest|heir)", m.group(2))
        return (m.group(1)[0] + ("n" if vowel else "")) + " " + m.group(2)
    line = re.sub(r"\b([Aa]n?) ([A-Za-z]\w*)", article, line)
    return re.sub(r"(^|[.?!] |^\"|[.?!:,] \")([a-z])", lambda m: m.group(1) + m.group(2).upper(), line)


def sentences(line):
    """Splits a line into sentences, at '. ', '? ', '! ' outside quotations and after a closing quotation."""
    out, start, inside = [], 0, False
    for i, ch in enumerate(line):
        inside ^= ch == '"'
        if ch in ".?!" and not inside and line[i + 1:i + 2] == " ":
            out, start = out + [line[start:i + 1]], i + 2
        elif ch == '"' and not inside and line[i - 1] in ".?!" and line[i + 1:i + 2] == " " and line[i + 2:i + 3] \
                in '"ABCDEFGHIJKLMNOPQRSTUVWXYZ':
            out, start = out + [line[start:i + 1]], i + 2
    return out + [line[start:]]


def curly(line):
    """Typographic quotation marks and apostrophes."""
    return re.sub(r'(^|[\s(—])"', "\\1\u201c", line).replace('"', "\u201d").replace("'", "\u2019")


def fits(kind, text, lines):
    """Whether a rare sentence suits a document: jalapeños only in fish dishes, the wedding cake next to baking."""
    dish = lines[0].split(" you need")[0]
    return kind is not recipe or ("fish" in dish if "jalape" in text else re.search("bread|pie|cake", dish))


def generate(seed, target):
    """Documents of random kinds until `target` bytes, then the rare sentences; returns the text of the file."""
    rng = random.Random(seed)
    docs, size = [], 0
    while size < target:
        kind = rng.choices([k for k, _ in KINDS], weights=[w for _, w in KINDS])[0]
        templates, ctx = kind(rng)
        docs.append((kind, [expand(rng, t, ctx) for t in templates]))
        size += sum(len(s.encode()) + 1 for s in docs[-1][1])
    for kind, count, text in RARE:
        eligible = [lines for k, lines in docs if k is kind and fits(k, text, lines)]
        for lines in rng.sample(eligible, min(len(eligible), max(1, round(count * target / SPLITS["train"][1])))):
            i = 0 if kind is letter else -1 if kind in (dialogue, recipe) else rng.randrange(len(lines))
            lines[i] += " " + expand(rng, text, {})
    quoted = [i for i, (_, lines) in enumerate(docs) if any('"' in s for s in lines)]
    typographic = set(rng.sample(quoted, max(1, len(quoted) // 20)))  # 5 % of them get typographic quotes
    out = []
    for n, (kind, lines) in enumerate(docs):
        lines = [fix(s) for s in lines if s.strip()]
        for i in reversed(range(len(lines))):  # at most five sentences per paragraph
            parts = sentences(lines[i])
            if len(parts) > 5:
                lines[i:i + 1] = [" ".join(parts[:len(parts) // 2]), " ".join(parts[len(parts) // 2:])]
        if n in typographic:
            lines = [curly(s) for s in lines]
        out.extend(lines)
    return "\n".join(out) + "\n"


def stats(path):
    """Sizes and checks of a written file; also returns its lines and word counts."""
    with open(path, encoding="utf-8", newline="") as f:
        text = f.read()
    lines, tokens = text.split("\n")[:-1], text.split()
    words = Counter(re.findall(r"[^\W\d_]+(?:['’][^\W\d_]+)*", text.lower()))
    per_line = Counter(len(sentences(s.replace("\u201c", '"').replace("\u201d", '"'))) for s in lines)
    return {"bytes": len(text.encode()), "lines": len(lines), "whitespace_tokens": len(tokens),
            "distinct_whitespace_tokens": len(set(tokens)), "distinct_words_lowercased": len(words),
            "duplicate_line_fraction": round(1 - len(set(lines)) / len(lines), 4),
            "sentences_per_line": dict(sorted(per_line.items())), "ends_with_newline": text.endswith("\n"),
            "has_cr": "\r" in text, "prompt_counts": {p: text.lower().count(p) for p in PROMPTS},
            "non_ascii": dict(sorted(Counter(c for c in text if ord(c) > 127).items())),
            "sha256": hashlib.sha256(text.encode()).hexdigest()}, lines, words


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(HERE, "default"), help="output directory (default: %(default)s)")
    ap.add_argument("--stats", action="store_true", help="only print statistics of the existing files")
    args = ap.parse_args()
    results = {}
    for split, (seed, target) in SPLITS.items():
        path = os.path.join(args.out, split + ".txt")
        if not args.stats:
            os.makedirs(args.out, exist_ok=True)
            with open(path, "w", encoding="utf-8", newline="\n") as f:
                f.write(generate(seed, target))
        results[split] = stats(path)
        print(f"{split}.txt:")
        for key, value in results[split][0].items():
            print(f"  {key}: {value}")
    train_lines = set(results["train"][1])
    print("valid lines that also occur in train:", sum(s in train_lines for s in results["valid"][1]),
          "of", len(results["valid"][1]))
    print("most frequent words in train:", ", ".join(f"{w} {c}" for w, c in results["train"][2].most_common(15)))


if __name__ == "__main__":
    main()
