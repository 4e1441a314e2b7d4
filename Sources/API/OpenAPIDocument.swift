/// The OpenAPI 3.1 description of every route the server answers, served at `/openapi.json`. A test asks the
/// running server each documented operation and checks that every registered route is documented.
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

    static let errorSchema: JSON = .object([
        ("type", .string("object")), ("required", .array([.string("error")])),
        ("properties", .object([("error", .object([
            ("type", .string("object")),
            ("required", .array([.string("code"), .string("message")])),
            ("properties", .object([("code", .object([("type", .string("string"))])),
                                    ("message", .object([("type", .string("string"))])),
                                    ("request_id", .object([("type", .string("string"))]))])),
        ]))])),
    ])

    static func errorResponse(_ description: String) -> JSON {
        .object([("description", .string(description)), ("content", .object([("application/json", .object([
            ("schema", .object([("$ref", .string("#/components/schemas/Error"))]))]))]))])
    }

    static func operation(_ method: String, _ path: String, _ summary: String) -> JSON {
        var responses: [(String, JSON)] = [("200", .object([("description", .string("OK"))]))]
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
        var fields: [(String, JSON)] = [("summary", .string(summary)), ("responses", .object(responses))]
        if method == "post" {
            fields.append(("requestBody", .object([("content", .object([
                ("application/json", .object([("schema", .object([("type", .string("object"))]))])),
                ("multipart/form-data", .object([("schema", .object([("type", .string("object"))]))])),
                ("image/jpeg", .object([("schema", .object([("type", .string("string")),
                                                            ("contentMediaType", .string("image/jpeg"))]))])),
                ("image/png", .object([("schema", .object([("type", .string("string")),
                                                           ("contentMediaType", .string("image/png"))]))])),
            ]))])))
        }
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
            ("components", .object([("schemas", .object([("Error", errorSchema)]))])),
        ])
    }
}
