-- wrk script: each wrk thread is one typist (run with -t N -c N) typing PTB text into POST /v1/suggest one
-- character per request, sending its whole text so far with its own session id, as the page does per keystroke.
--
--   wrk -t 16 -c 16 -d 20s --latency -s scripts/load/typist.lua http://127.0.0.1:PORT -- TEXT_FILE [SESSION_PREFIX]
--       [KEYS_PER_SECOND]
--
-- A typist pauses about 1/KEYS_PER_SECOND between keystrokes (default 10 a second, a fast typist; 0: no pause, each
-- keystroke sent as soon as the last answer came, a stress test rather than a person): each pause is drawn from
-- 0.5…1.5 times the mean, as people's are uneven, so typists do not press keys in lockstep (which would make every
-- keystroke of a round queue behind all the others). wrk's latency does not count the pause.
--
-- done() prints one JSON line: wrk threads (= typists), requests, errors, non-2xx responses, req/s, latency
-- percentiles in ms, wrk's own CPU seconds. (wrk tells the script its threads, not its connections.)
-- next.lua loads this file for setup, response and done, and replaces init and request.

-- Named in the JSON line; next.lua overrides them.
LOAD_SCRIPT, LOAD_ENDPOINT = "typist", "/v1/suggest"

local CHUNK = 8192 -- bytes of text per typist: a few KB, so 128 typists don't each hold the whole file

-- Setup and done run in wrk's main Lua state; the counters live in the thread states and are fetched in done().
local threads = {}

function setup(thread)
   table.insert(threads, thread)
   thread:set("id", #threads)
end

local escapes = { ['"'] = '\\"', ['\\'] = '\\\\', ['\n'] = '\\n', ['\r'] = '\\r', ['\t'] = '\\t' }

-- A JSON string literal (global: next.lua uses it too). UTF-8 passes through as is, which is valid JSON; only
-- quotes, backslashes and control characters need escaping.
function json_string(s)
   return '"' .. (s:gsub('[%c"\\]', function(c) return escapes[c] or string.format("\\u%04x", c:byte()) end)) .. '"'
end

-- Byte length of the UTF-8 character starting with byte b, so a typist never sends half a character.
local function char_length(b)
   if b >= 0xF0 then return 4 elseif b >= 0xE0 then return 3 elseif b >= 0xC0 then return 2 else return 1 end
end

local lines, line_index, typed = {}, 1, 0
local pause_ms = 100
local session
-- Globals, so done() can read them from each thread with thread:get.
status_counts, non2xx = {}, 0

-- At most `count` bytes of the text file `path` (the script's first argument), from the offset `offset_in(file size)`
-- gives; exits with status 2 naming `who` when the file cannot be read. Global: next.lua reads its text with it too.
function read_text(path, who, count, offset_in)
   local f = path and io.open(path, "rb")
   if not f then
      io.stderr:write(who, ": cannot read the text file '", tostring(path), "' (pass it after --)\n")
      os.exit(2)
   end
   local offset = offset_in(f:seek("end"))
   f:seek("set", offset)
   local data = f:read(count) or ""
   f:close()
   return data, offset
end

function init(args)
   local path = args[1] -- args[0] is the URL
   -- Spread the typists over the file (golden-ratio steps), each starting at a line boundary.
   local data, offset = read_text(path, "typist.lua", CHUNK, function(size)
      return math.floor(((id * 0.6180339887498949) % 1) * math.max(size - CHUNK, 0))
   end)
   if offset > 0 then data = data:gsub("^[^\n]*\n", "", 1) end
   for line in data:gmatch("([^\n]*)\n") do -- the last, unterminated, piece is dropped
      line = line:match("^%s*(.-)%s*$")
      if #line > 0 then table.insert(lines, line) end
   end
   if #lines == 0 then
      io.stderr:write("typist.lua: no text lines in '", path, "'\n")
      os.exit(2)
   end
   session = (args[2] or "typist") .. "-" .. id
   local keys_per_second = tonumber(args[3] or "10") or 10
   pause_ms = keys_per_second > 0 and 1000 / keys_per_second or 0
   math.randomseed(id * 7919)
   wrk.headers["Content-Type"] = "application/json"
end

-- wrk waits this many ms before each request of the thread: the typist's pause between keystrokes.
function delay()
   return math.floor(pause_ms * (0.5 + math.random()))
end

function request()
   local line = lines[line_index]
   if typed >= #line then -- the line is done: a new text, typed from empty
      line_index = line_index % #lines + 1
      line, typed = lines[line_index], 0
   end
   typed = typed + char_length(line:byte(typed + 1))
   local body = '{"text": ' .. json_string(line:sub(1, typed)) .. ', "k": 3, "continuation": false, "session": '
      .. json_string(session) .. '}'
   return wrk.format("POST", "/v1/suggest", nil, body)
end

-- Defining response() makes wrk parse every response (a little slower) but counts every non-2xx, not only > 399.
function response(status, headers, body)
   if status < 200 or status > 299 then
      non2xx = non2xx + 1
      status_counts[status] = (status_counts[status] or 0) + 1
   end
end

function done(summary, latency, requests)
   local non2xx_total, statuses = 0, {}
   for _, thread in ipairs(threads) do
      non2xx_total = non2xx_total + (thread:get("non2xx") or 0)
      for status, count in pairs(thread:get("status_counts") or {}) do
         statuses[status] = (statuses[status] or 0) + count
      end
   end
   local status_json = {}
   for status, count in pairs(statuses) do table.insert(status_json, string.format('"%d": %d', status, count)) end
   local e = summary.errors
   local seconds = summary.duration / 1e6
   local ms = function(us) return us / 1000 end
   io.write(string.format('{"script": "%s", "endpoint": "%s", "threads": %d, "duration_s": %.3f, '
      .. '"requests": %d, "non2xx": %d, "statuses": {%s}, "errors": {"connect": %d, "read": %d, "write": %d, '
      .. '"status": %d, "timeout": %d}, "requests_per_s": %.2f, "ok_per_s": %.2f, "latency_ms": {"p50": %.3f, '
      .. '"p90": %.3f, "p99": %.3f, "max": %.3f, "mean": %.3f}, "wrk_cpu_s": %.2f}\n',
      LOAD_SCRIPT, LOAD_ENDPOINT, #threads, seconds, summary.requests, non2xx_total, table.concat(status_json, ", "),
      e.connect, e.read, e.write, e.status, e.timeout,
      summary.requests / seconds, (summary.requests - non2xx_total) / seconds,
      ms(latency:percentile(50)), ms(latency:percentile(90)), ms(latency:percentile(99)), ms(latency.max),
      ms(latency.mean), os.clock()))
end
