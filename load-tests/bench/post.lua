-- wrk script: POSTs the JSON file BODY_FILE with the API key; with USERS > 1 it spreads requests over
-- PATH_PREFIX<n>/predict for n in 1..USERS (rentals per-user models), otherwise it posts to the URL's path.
local body_file = os.getenv("BODY_FILE")
local f = assert(io.open(body_file, "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
wrk.headers["x-api-key"] = os.getenv("API_KEY") or "local-dev-key"

local users = tonumber(os.getenv("USERS") or "1")
local prefix = os.getenv("PATH_PREFIX")
if users > 1 and prefix then
  local n = 0
  request = function()
    n = n % users + 1
    return wrk.format(nil, prefix .. n .. "/predict")
  end
end

-- Non-2xx answers are counted by wrk itself ("Non-2xx or 3xx responses"); the script parses that line.
