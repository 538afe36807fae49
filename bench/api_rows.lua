-- wrk's preview + confirm pairs for bench/api_rows.py (canone and its replay alike): one
-- connection a thread, each thread one account, preview one more seat then confirm it with
-- the preview's quote token, as bench/api.py's clients do. Arguments (after `--`): the API
-- key, then account:seats for each thread.
local made, threads = 0, {}

function setup(thread)
  made = made + 1
  thread:set("n", made)
  table.insert(threads, thread)
end

function init(args)
  key = args[1]
  account, seats = args[n + 1]:match("([^:]+):(%d+)")
  seats = tonumber(seats)
  path = "/api/v1/accounts/" .. account .. "/subscription/"
  math.randomseed(n * 7919 + os.time())
  token, confirmed, failed = nil, 0, 0
end

local function hex()
  return string.format("%08x", math.random(0, 2 ^ 31 - 1))
end

function request()
  local headers = {["Content-Type"] = "application/json",
                   ["Authorization"] = "Bearer " .. key,
                   ["Idempotency-Key"] = hex() .. hex() .. hex() .. hex()}
  if token then
    return wrk.format("POST", path .. "confirm", headers, '{"quote_token":"' .. token .. '"}')
  end
  return wrk.format("POST", path .. "preview", headers, string.format(
    '{"target":{"product":"marketing","tier":"plus","interval":"month","currency":"EUR",'
    .. '"contacts":1000,"seats":%d,"addons":[]}}', seats + 1))
end

function response(status, headers, body)
  local what = token and "confirm" or "preview"
  if status ~= 200 then
    failed = failed + 1
    token = nil
    io.write(what, " ", status, ": ", body:sub(1, 300), "\n")
  elseif token then
    token, confirmed = nil, confirmed + 1
    seats = tonumber(body:match('"seats":(%d+)'))  -- the subscription's, first in the answer
  else
    token = body:match('"quote_token":"([^"]+)"')
  end
end

function done(summary, latency, requests)
  local c, f = 0, 0
  for _, thread in ipairs(threads) do
    c, f = c + thread:get("confirmed"), f + thread:get("failed")
  end
  io.write(string.format("confirmed %d failed %d\n", c, f))
end
