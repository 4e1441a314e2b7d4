-- wrk script of the serving benchmark: POST multipart bodies to /caption or /match, a different image each
-- request (Tiaoyu caches per image SHA-256, so a repeated image would time the cache, not the model).
--   wrk -t1 -c32 -d10s -s load.lua URL -- ENDPOINT LIST OFFSET [repeat]
-- ENDPOINT: caption | match; LIST: a file of PNG paths (bench.py render writes it); OFFSET: index of the first
-- image to send (run.sh moves it on after every run so no image is sent twice to one server); "repeat": send
-- image OFFSET every time (the labelled cache row). Run with -t1: one counter then walks the list for every
-- connection. done() prints one line for run.sh: RESULT requests seconds p50_ms p99_ms errors.

-- The texts every /match request scores against its image.
local match_texts = {
    "a small red circle",
    "a large blue square to the left of a small green star",
    "a large yellow triangle above a small white circle",
    "a small black star",
}
local boundary = "tiaoyubenchboundary7d1f3a"
local bodies = {}
local next_index = 0
local repeat_one = false
local warmup = false
local first = 0
local headers = { ["Content-Type"] = "multipart/form-data; boundary=" .. boundary }
local path = "/caption"

local function part_image(bytes)
    return "--" .. boundary .. "\r\nContent-Disposition: form-data; name=\"image\"; filename=\"scene.png\"\r\n"
        .. "Content-Type: image/png\r\n\r\n" .. bytes .. "\r\n"
end

local function part_text(text)
    return "--" .. boundary .. "\r\nContent-Disposition: form-data; name=\"text\"\r\n\r\n" .. text .. "\r\n"
end

function init(args)
    local endpoint, list, offset = args[1], args[2], tonumber(args[3])
    repeat_one = args[4] == "repeat"
    -- Warm-up cycles within the scenes from its offset on, so it never reaches (wraps into) the timed scenes.
    warmup = args[4] == "warmup"
    path = "/" .. endpoint
    for file in io.lines(list) do
        local f = assert(io.open(file, "rb"))
        local body = part_image(f:read("*a"))
        f:close()
        if endpoint == "match" then
            for _, text in ipairs(match_texts) do body = body .. part_text(text) end
        end
        bodies[#bodies + 1] = body .. "--" .. boundary .. "--\r\n"
    end
    next_index = offset % #bodies
    first = next_index
end

function request()
    local body = bodies[next_index + 1]
    if warmup then
        next_index = first + (next_index + 1 - first) % (#bodies - first)
    elseif not repeat_one then
        next_index = (next_index + 1) % #bodies
    end
    return wrk.format("POST", path, headers, body)
end

function done(summary, latency, requests)
    local e = summary.errors
    io.write(string.format("RESULT %d %.3f %.2f %.2f %d\n", summary.requests, summary.duration / 1e6,
        latency:percentile(50) / 1000, latency:percentile(99) / 1000,
        e.connect + e.read + e.write + e.status + e.timeout))
end
