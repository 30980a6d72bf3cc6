-- Sends the URL's request DEPTH times back to back on each connection before reading the answers, as TechEmpower's
-- plaintext test does with 16:  wrk -s pipeline.lua http://127.0.0.1:PORT/plaintext -- 16

function init(args)
  local depth = tonumber(args[1] or "1")
  pipelined = string.rep(wrk.format(nil, nil), depth)
end

function request()
  return pipelined
end
