-- wrk script: POST /v1/next with short PTB texts (5 to 20 consecutive words from a random place), k 10.
--
--   wrk -t 4 -c 64 -d 20s --latency -s scripts/load/next.lua http://127.0.0.1:PORT -- TEXT_FILE
--
-- setup, response and done (the counters and the JSON line) and read_text are typist.lua's, loaded from beside this
-- file; init, request and delay are its own: next-token clients do not pause between requests.

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "typist.lua")
LOAD_SCRIPT, LOAD_ENDPOINT = "next", "/v1/next"

local CHUNK = 16384
local POOL = 256 -- bodies built once in init: the docs' advice, so wrk spends its time on the network

local requests, next_request = {}, 1

function init(args)
   local path = args[1] -- args[0] is the URL
   math.randomseed(id)
   local data = read_text(path, "next.lua", CHUNK, function(size) return math.random(0, math.max(size - CHUNK, 0)) end)
   local words = {}
   for word in data:gmatch("%S+") do table.insert(words, word) end
   table.remove(words, 1) -- maybe cut by the offset
   table.remove(words)
   if #words < 20 then
      io.stderr:write("next.lua: too little text in '", path, "'\n")
      os.exit(2)
   end
   wrk.headers["Content-Type"] = "application/json"
   for i = 1, POOL do
      local n = math.random(5, 20)
      local start = math.random(1, #words - n + 1)
      local text = table.concat(words, " ", start, start + n - 1)
      requests[i] = wrk.format("POST", "/v1/next", nil, '{"text": ' .. json_string(text) .. ', "k": 10}')
   end
end

-- No pause: typist.lua's delay() would otherwise wait a typist's 100 ms between requests.
function delay()
   return 0
end

function request()
   local r = requests[next_request]
   next_request = next_request % POOL + 1
   return r
end
