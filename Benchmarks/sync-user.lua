-- wrk script: POST /internal/auth/sync-user with ~600-byte Auth0 Post-Login Action bodies
-- shaped like fixtures/auth0-action/login.json.
--
-- About half the requests (NEW_RATIO, default 0.5) are new users, with an auth0Id unique
-- per request (thread id + counter); the rest repeat one of POOL (default 1000) ids, so
-- they update an existing user. Non-2xx responses are counted per thread and summed in
-- done().
--
-- Environment: INTERNAL_API_TOKEN (required), POOL, NEW_RATIO, BODY_BYTES (default 600),
-- ID_PREFIX (in new users' ids).
-- With REFUSED=1 the auth0Id is an object, not a string: every request is authenticated,
-- read and parsed, then answered 400 with nothing written (the floor of the route's cost).
--   wrk -t2 -c64 -d15s --latency -s Benchmarks/sync-user.lua http://127.0.0.1:PORT

local token = os.getenv("INTERNAL_API_TOKEN") or error("INTERNAL_API_TOKEN is not set")
local pool = tonumber(os.getenv("POOL") or "1000")
local new_ratio = tonumber(os.getenv("NEW_RATIO") or "0.5")
local body_bytes = tonumber(os.getenv("BODY_BYTES") or "600")
local refused = os.getenv("REFUSED") == "1"
-- Set apart the new users of two wrk processes running at once (Benchmarks/postgres.sh).
local id_prefix = os.getenv("ID_PREFIX") or ""

local threads = {}
local thread_count = 0

-- Runs in the main interpreter once per thread, before the thread starts.
function setup(thread)
  thread_count = thread_count + 1
  thread:set("tid", thread_count)
  table.insert(threads, thread)
end

local counter = 0
local statuses = {}
local template, ua_pad
-- Globals, read from the main interpreter in done() with thread:get().
non2xx = 0
status_text = ""
sample_len = 0

-- Runs in each thread's interpreter.
function init(args)
  tid = tid or 0
  math.randomseed(os.time() + tid * 7919)
  wrk.method = "POST"
  wrk.path = "/internal/auth/sync-user"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. token

  -- Build once with an empty pad, then pad userAgent so that a body with a typical id
  -- is about body_bytes long.
  template = (refused and '{"auth0Id":{"id":"%s"},' or '{"auth0Id":"%s",') .. '"email":"%s","name":"Bench User %d",'
    .. '"picture":"https://s.gravatar.com/avatar/8f1c2a7d3b9e4f60a1b2c3d4e5f60718?s=480&r=pg&d=https%%3A%%2F%%2Fcdn.auth0.com%%2Favatars%%2Fbu.png",'
    .. '"emailVerified":true,"loginsCount":%d,"ip":"203.0.113.%d",'
    .. '"userAgent":"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36%s",'
    .. '"protocol":"oidc-basic-profile"}'
  local probe = string.format(template, "auth0|bench-t1-n0000000", "bench-t1-n0000000@example.com", 1, 1, 1, "")
  local missing = body_bytes - #probe
  ua_pad = missing > 0 and (" " .. string.rep("x", missing - 1)) or ""
  sample_len = #string.format(template, "auth0|bench-t1-n0000001", "auth0-bench-t1-n0000001@example.com", 1, 1, 2, ua_pad)
end

function request()
  counter = counter + 1
  local id
  if math.random() < new_ratio then
    id = string.format("auth0|bench%s-t%d-n%07d", id_prefix, tid, counter)
  else
    id = string.format("auth0|bench-pool-%04d", math.random(0, pool - 1))
  end
  local local_part = id:gsub("[^%w%-]", "-")
  local body = string.format(template, id, local_part .. "@example.com", counter, counter % 1000, counter % 250 + 1, ua_pad)
  return wrk.format(nil, nil, nil, body)
end

function response(status, headers, body)
  if (status < 200 or status > 299) and not (refused and status == 400) then
    non2xx = non2xx + 1
    statuses[status] = (statuses[status] or 0) + 1
    local parts = {}
    for code, count in pairs(statuses) do table.insert(parts, code .. "=" .. count) end
    status_text = table.concat(parts, " ")
  end
end

function done(summary, latency, requests)
  local total = 0
  local by_status = {}
  for _, thread in ipairs(threads) do
    total = total + (thread:get("non2xx") or 0)
    -- Tables do not cross interpreters; each thread keeps a string of "status=count".
    local text = thread:get("status_text")
    if text then
      for status, count in text:gmatch("(%d+)=(%d+)") do
        by_status[status] = (by_status[status] or 0) + tonumber(count)
      end
    end
  end
  local parts = {}
  for status, count in pairs(by_status) do table.insert(parts, status .. "=" .. count) end
  table.sort(parts)
  io.write(string.format("sync-user non-2xx: %d%s\n", total, #parts > 0 and (" (" .. table.concat(parts, " ") .. ")") or ""))
  io.write(string.format("sync-user body bytes (typical request): %d\n", threads[1] and threads[1]:get("sample_len") or 0))
end
