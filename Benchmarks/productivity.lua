-- POST /hooks/productivity with pre-signed Standard Webhooks events (Benchmarks/make-signed-events.py):
-- every request a new event id; thread k sends lines k, k+n, k+2n, ...
-- Arguments: the events file, the number of threads, and the status every answer should
-- have (202 unless given).
local threads = {}
local counter = 0

function setup(thread)
  thread:set("index", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  local file, total = args[1], tonumber(args[2])
  expected = tonumber(args[3] or "202")
  requests, position, failures = {}, 1, 0
  local line_number = 0
  for line in io.lines(file) do
    if line_number % total == index then
      local id, ts, sig, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
      requests[#requests + 1] = wrk.format("POST", "/hooks/productivity", {
        ["Content-Type"] = "application/json", ["webhook-id"] = id, ["webhook-timestamp"] = ts, ["webhook-signature"] = sig,
      }, body)
    end
    line_number = line_number + 1
  end
end

function request()
  local r = requests[position]
  position = position % #requests + 1
  return r
end

function response(status, headers, body)
  if status ~= expected then failures = failures + 1 end
end

function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do total = total + thread:get("failures") end
  io.write(string.format("responses other than %d: %d\n", threads[1]:get("expected"), total))
end
