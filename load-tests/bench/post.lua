-- wrk script: POSTs the JSON file BODY_FILE with the API key. With USERS > 1 it spreads requests over
-- PATH_TEMPLATE with "{user}" replaced by n drawn uniformly at random from 1..USERS (rentals per-user models; each
-- wrk thread has its own random sequence), otherwise it posts to the URL's path.
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
  request = function()
    local path = template:gsub("{user}", tostring(math.random(users)))
    return wrk.format(nil, path)
  end
end

-- Non-2xx answers are counted by wrk itself ("Non-2xx or 3xx responses"); the script parses that line.
