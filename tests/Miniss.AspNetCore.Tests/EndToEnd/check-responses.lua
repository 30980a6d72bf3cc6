-- Checks every response wrk receives: status 200 and exactly the expected body. At the end it prints how many it
-- checked and exits 1 if any differed, none came, or wrk counted a socket error or a bad status.
--   wrk -t1 -c16 -d2s -s check-responses.lua http://127.0.0.1:PORT/plaintext -- "Hello, World!" [PIPELINE_DEPTH]

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  expected = args[1]
  checked = 0
  failed = 0
  local depth = tonumber(args[2] or "1")
  pipelined = string.rep(wrk.format(nil, nil), depth)
end

function request()
  return pipelined
end

function response(status, headers, body)
  checked = checked + 1
  if status ~= 200 or body ~= expected then
    failed = failed + 1
    if first_failure == nil then
      first_failure = status .. " " .. tostring(body)
    end
  end
end

function done(summary, latency, requests)
  local total, bad = 0, 0
  for _, thread in ipairs(threads) do
    total = total + thread:get("checked")
    bad = bad + thread:get("failed")
    local first = thread:get("first_failure")
    if first ~= nil then
      io.write("first bad response: " .. first .. "\n")
    end
  end
  local errors = summary.errors
  io.write(string.format("checked %d responses, %d bad; socket errors: connect %d, read %d, write %d, timeout %d; bad status %d\n",
    total, bad, errors.connect, errors.read, errors.write, errors.timeout, errors.status))
  if total == 0 or bad > 0 or errors.connect + errors.read + errors.write + errors.timeout + errors.status > 0 then
    os.exit(1)
  end
end
