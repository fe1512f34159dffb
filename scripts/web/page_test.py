"""The page of `quill serve` in a real browser (headless Chromium through Selenium): it types into the text box, sees
the ghost text and the suggestions change, takes a word with Tab and all of the ghost text with the right arrow,
translates a sentence and sees the attention heat map, and saves a screenshot it checks is not blank.

    python3 scripts/web/page_test.py http://127.0.0.1:PORT/ screenshot.png

Run by scripts/test-web.sh, which starts the server with a language model and a translation model."""
import re
import struct
import sys
import time
import zlib

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

url, screenshot = sys.argv[1], sys.argv[2]
options = Options()
for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1100,900"]:
    options.add_argument(argument)
options.binary_location = "/usr/bin/chromium"
driver = webdriver.Chrome(options=options, service=Service("/usr/bin/chromedriver"))
wait = WebDriverWait(driver, 20)


def check(condition, message):
    if not condition:
        print(f"page test: FAILED: {message}", file=sys.stderr)
        driver.save_screenshot(screenshot)
        driver.quit()
        sys.exit(1)


def ghost():
    """The grey text after the typed text (read in one script call: the page redraws it on every answer)."""
    return driver.execute_script("const r = document.querySelector('#ghost .rest'); return r ? r.textContent : '';")


def suggestions():
    return driver.execute_script("return [...document.querySelectorAll('#suggestions li')].map(li => li.textContent);")


try:
    driver.get(url)
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#lm option") and d.find_elements(By.CSS_SELECTOR, "#tm option"))
    box = driver.find_element(By.ID, "text")
    for character in "The old fisherman":
        box.send_keys(character)
        time.sleep(0.02)
    wait.until(lambda d: ghost().strip() and suggestions())
    first_ghost, first_list = ghost(), suggestions()
    print(f"after 'The old fisherman': ghost {first_ghost!r}, suggestions {first_list}")
    box.send_keys(" went to the")
    wait.until(lambda d: suggestions() and suggestions() != first_list and ghost().strip())
    second_list, second_ghost = suggestions(), ghost()
    print(f"after ' went to the': ghost {second_ghost!r}, suggestions {second_list}")
    check(second_list != first_list, "the suggestions did not change as the text grew")

    before = box.get_attribute("value")
    expected_word = re.match(r"\s*([\w'’-]+|\S)", second_ghost).group(1)
    box.send_keys(Keys.TAB)
    wait.until(lambda d: box.get_attribute("value") != before)
    after_tab = box.get_attribute("value")
    print(f"Tab: {after_tab!r}")
    check(after_tab.startswith(before) and after_tab[len(before):].strip() == expected_word,
          f"Tab should take the ghost's next word {expected_word!r}, the text became {after_tab!r}")
    check(driver.switch_to.active_element == box, "the text box lost the focus after Tab")

    wait.until(lambda d: ghost().strip())
    rest = ghost()
    box.send_keys(Keys.ARROW_RIGHT)
    wait.until(lambda d: box.get_attribute("value") != after_tab)
    print(f"→: {box.get_attribute('value')!r}")
    check(box.get_attribute("value") == after_tab + rest, "→ should take all of the ghost text")

    source = driver.find_element(By.ID, "source")
    source.send_keys("ein hund rennt")
    driver.find_element(By.ID, "translate").click()
    time.sleep(0.3)
    wait.until(lambda d: d.find_element(By.ID, "translation").text.strip()
               and d.find_elements(By.CSS_SELECTOR, "#attention table.heat td"))
    cells = driver.find_elements(By.CSS_SELECTOR, "#attention table.heat td")
    print(f"translation: {driver.find_element(By.ID, 'translation').text!r}, {len(cells)} attention cells")
    check(driver.find_element(By.ID, "status").text == "", f"the page shows an error: {driver.find_element(By.ID, 'status').text}")

    box.click()
    png = driver.get_screenshot_as_png()
    with open(screenshot, "wb") as f:
        f.write(png)
    # Not blank: the decompressed pixel rows hold many different byte values.
    chunks, at = [], 8
    while at < len(png):
        length, kind = struct.unpack(">I4s", png[at:at + 8])
        if kind == b"IDAT":
            chunks.append(png[at + 8:at + 8 + length])
        at += 12 + length
    pixels = zlib.decompress(b"".join(chunks))
    distinct = len(set(pixels))
    print(f"screenshot {screenshot}: {len(png)} bytes, {distinct} distinct byte values")
    check(distinct > 16, "the screenshot is blank")
    print("page test: passed")
finally:
    driver.quit()
