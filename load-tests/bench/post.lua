-- wrk script: POSTs the JSON file BODY_FILE with the API key. With USERS > 1 it spreads requests over
-- PATH_TEMPLATE with "{user}" replaced by n drawn uniformly at random from 1..USERS (rentals per-user models; each
-- wrk thread has its own random sequence), and "{user}" in the body by the same n; otherwise it posts to the URL's
-- path.
local body_file = os.getenv("BODY_FILE")
local f = assert(io.open(body_file, "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
wrk.headers["x-api-key"] = os.getenv("API_KEY") or "local-dev-key"

local users = tonumber(os.getenv("USERS") or "1")
local template = os.getenv("PATH_TEMPLATE")

local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("thread_id", threads)
end

function init(args)
  math.randomseed(os.time() * 1000 + (thread_id or 0))
end

if users > 1 and template then
  -- A body naming its user (the Open Inference Protocol's parameters.user_id) gets the same random user.
  local body_names_user = wrk.body:find("{user}", 1, true) ~= nil
  request = function()
    local n = tostring(math.random(users))
    local path = template:gsub("{user}", n)
    if body_names_user then
      return wrk.format(nil, path, nil, (wrk.body:gsub("{user}", n)))
    end
    return wrk.format(nil, path)
  end
end

-- Non-2xx answers are counted by wrk itself ("Non-2xx or 3xx responses"); the script parses that line.
