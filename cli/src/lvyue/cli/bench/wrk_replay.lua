-- Replays pre-signed order webhooks for lvyue bench (see wrk.py), one connection per wrk
-- thread: a thread's responses come back in the order of its requests, so each answer is
-- written next to the send time and the order id it returned.
--
--   wrk -t N -c N -s wrk_replay.lua URL <directory> <webhooks/s per thread, 0 = flat out>
--
-- Thread i reads <directory>/requests-i ("<length>\n<raw HTTP request>" records) and writes
-- <directory>/responses-i: "<sent epoch s> <latency s> <slip s> <status> <order id or ->"
-- per answer, and "exhausted" if it ran out of requests (it then stops: never a repeat).

local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } lvyue_timespec;
int clock_gettime(int clock_id, lvyue_timespec *tp);
]]
local CLOCK_REALTIME = 0 -- Kafka timestamps are epoch milliseconds of this clock
local clock = ffi.new("lvyue_timespec")

local function now()
  ffi.C.clock_gettime(CLOCK_REALTIME, clock)
  return tonumber(clock.tv_sec) + tonumber(clock.tv_nsec) * 1e-9
end

local threads = 0

function setup(thread)
  thread:set("id", threads)
  threads = threads + 1
end

local requests, next_index, out = {}, 0, nil
local sent, scheduled, slip = 0, 0, 0

local function load(path)
  local file = assert(io.open(path, "rb"))
  local list = {}
  while true do
    local length = file:read("*l")
    if not length then break end
    list[#list + 1] = file:read(tonumber(length))
  end
  file:close()
  return list
end

function init(args)
  local directory, rate = args[1], tonumber(args[2])
  requests = load(directory .. "/requests-" .. id)
  out = assert(io.open(directory .. "/responses-" .. id, "w"))
  out:setvbuf("full", 65536)
  if rate > 0 then
    local start, slot = now(), 0
    -- wrk asks before each request how long to wait: the next slot of this thread's
    -- schedule. A busy connection sends late; the lateness is written down as slip.
    delay = function()
      scheduled = start + slot / rate
      slot = slot + 1
      local wait_ms = (scheduled - now()) * 1000
      if wait_ms < 0 then return 0 end
      return wait_ms
    end
  end
end

function request()
  next_index = next_index + 1
  sent = now()
  slip = scheduled > 0 and math.max(0, sent - scheduled) or 0
  return requests[next_index]
end

function response(status, headers, body)
  local latency = now() - sent
  local order_id = status < 300 and string.match(body, '"order_id"%s*:%s*"([^"]+)"') or "-"
  out:write(string.format("%.6f %.6f %.6f %d %s\n", sent, latency, slip, status, order_id))
  if next_index >= #requests then
    out:write("exhausted\n")
    out:flush()
    wrk.thread:stop()
  end
end
