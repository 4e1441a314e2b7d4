/// The OpenAPI 3.1 description of every route the server answers, served at `/openapi.json`, with the full
/// request and response schemas of the inference routes (`OpenAPIDocument+Schemas.swift`). Tests check that
/// every registered route is documented and that the server accepts and answers what the schemas say.
enum OpenAPIDocument {
    /// Every (method, path) the server routes: the API's and the HTTP server's operational ones.
    static let routes: [(method: String, path: String, summary: String)] = [
        ("post", "/caption", "Caption images (multipart, raw image body, or JSON); SSE with stream: true"),
        ("post", "/embed", "Normalised ITC embeddings of images (pooled or per query token) and texts"),
        ("post", "/match", "ITM probabilities and ITC similarities of every image with every text, ranked"),
        ("post", "/v1/embeddings", "Embeddings in OpenAI's shape (text and image inputs, float or base64)"),
        ("get", "/v1/models", "Loaded models in OpenAI's shape"),
        ("get", "/info", "Models, capabilities, batching, cache and limits in effect"),
        ("get", "/openapi.json", "This document"),
        ("get", "/healthz", "Liveness"),
        ("get", "/readyz", "Readiness: 200 once models are loaded and warmed up, 503 while loading or draining"),
        ("get", "/metrics", "Prometheus metrics"),
    ]

    static let errorSchema: JSON = object([("error", object([("code", string), ("message", string),
                                                             ("request_id", string)],
                                                            required: ["code", "message"]))],
                                          required: ["error"])

    static func errorResponse(_ description: String) -> JSON {
        .object([("description", .string(description)), ("content", .object([("application/json", .object([
            ("schema", ref("Error"))]))]))])
    }

    static func operation(_ method: String, _ path: String, _ summary: String) -> JSON {
        var responses: [(String, JSON)] = [("200", okResponses[path] ?? .object([("description", .string("OK"))]))]
        if method == "post" {
            responses += [
                ("400", errorResponse("Malformed body, unknown field or wrong type")),
                ("404", errorResponse("The model this endpoint needs is not loaded")),
                ("413", errorResponse("Too many items or pixels")),
                ("415", errorResponse("Unsupported content type or image format")),
                ("422", errorResponse("An image that cannot be decoded")),
                ("429", errorResponse("The queue is full; see Retry-After")),
                ("503", errorResponse("Models are loading")),
                ("504", errorResponse("The deadline passed before the work ran")),
            ]
        }
        var fields: [(String, JSON)] = [("summary", .string(summary))]
        if let parameters = parameters(path) { fields.append(("parameters", parameters)) }
        if let body = requestBodies[path] { fields.append(("requestBody", body)) }
        fields.append(("responses", .object(responses)))
        return .object(fields)
    }

    static var document: JSON {
        var paths: [(String, JSON)] = []
        for route in routes {
            paths.append((route.path, .object([(route.method, operation(route.method, route.path, route.summary))])))
        }
        return .object([
            ("openapi", .string("3.1.0")),
            ("info", .object([("title", .string("Tiaoyu")), ("version", .string("0.1.0")),
                              ("description", .string("BLIP-2 inference server: captions, embeddings, matching"))])),
            ("paths", .object(paths)),
            ("components", .object([("schemas", .object(schemas))])),
        ])
    }
}
