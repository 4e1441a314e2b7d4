import Blip2

// The request and response schemas of the inference routes, written to match what `Endpoints` reads and writes:
// every object is closed (`additionalProperties: false`) because the handlers reject unknown fields, and the
// response objects list exactly the fields the handlers emit. `APIOpenAPITests` sends each documented example
// and field to a running server and validates the answers against these schemas.
extension OpenAPIDocument {
    // MARK: schema builders

    /// A closed object: unknown properties are an error, as in the handlers.
    static func object(_ properties: [(String, JSON)], required: [String] = [], _ description: String? = nil)
        -> JSON {
        var fields: [(String, JSON)] = [("type", .string("object"))]
        if let description { fields.append(("description", .string(description))) }
        fields += [("properties", .object(properties)), ("additionalProperties", .bool(false))]
        if !required.isEmpty { fields.append(("required", .array(required.map { .string($0) }))) }
        return .object(fields)
    }

    /// A primitive schema; `example` (JSON Schema `examples`) is a value the server accepts for the field alone.
    static func primitive(_ type: String, _ description: String, example: JSON? = nil,
                          bounds: [(String, JSON)] = [], values: [String]? = nil) -> JSON {
        var fields: [(String, JSON)] = [("type", .string(type)), ("description", .string(description))]
        if let values { fields.append(("enum", .array(values.map { .string($0) }))) }
        fields += bounds
        if let example { fields.append(("examples", .array([example]))) }
        return .object(fields)
    }

    static func array(_ items: JSON, minItems: Int? = nil, _ description: String? = nil,
                      example: JSON? = nil) -> JSON {
        var fields: [(String, JSON)] = [("type", .string("array")), ("items", items)]
        if let minItems { fields.append(("minItems", .int(minItems))) }
        if let description { fields.append(("description", .string(description))) }
        if let example { fields.append(("examples", .array([example]))) }
        return .object(fields)
    }

    static func ref(_ name: String) -> JSON { .object([("$ref", .string("#/components/schemas/\(name)"))]) }
    static func anyOf(_ schemas: [JSON]) -> JSON { .object([("anyOf", .array(schemas))]) }
    static func constant(_ value: String) -> JSON { .object([("const", .string(value))]) }
    static let integer: JSON = .object([("type", .string("integer"))])
    static let number: JSON = .object([("type", .string("number"))])
    static let string: JSON = .object([("type", .string("string"))])
    static let boolean: JSON = .object([("type", .string("boolean"))])
    /// A file field or raw body: the bytes of a JPEG or PNG.
    static func file(_ type: String = "application/octet-stream") -> JSON {
        .object([("type", .string("string")), ("contentMediaType", .string(type)),
                 ("description", .string("JPEG or PNG bytes"))])
    }

    static func minimum(_ value: Int) -> [(String, JSON)] { [("minimum", .int(value))] }
    static func range(_ low: Int, _ high: Int) -> [(String, JSON)] { [("minimum", .int(low)), ("maximum", .int(high))] }
    static func above(_ value: Int) -> [(String, JSON)] { [("exclusiveMinimum", .int(value))] }

    // MARK: options

    static let timeoutOption: (String, JSON) = ("timeout_ms", primitive(
        "integer", "Deadline in milliseconds (at most the server's --max-timeout); past it the work is dropped (504)",
        example: .int(30000), bounds: minimum(1)))

    /// `/caption`'s options, the same in a JSON body, a form and a query string.
    static let captionOptions: [(String, JSON)] = [
        ("prompt", primitive("string", "Text the caption continues, e.g. \"Question: what is this? Answer:\"",
                             example: .string("a picture of"))),
        ("max_new_tokens", primitive("integer", "Most tokens to generate (default: the checkpoint's, else 30)",
                                     example: .int(5), bounds: range(1, GenerationOptions.maxNewTokensLimit))),
        ("min_new_tokens", primitive("integer", "EOS is suppressed until this many tokens", example: .int(1),
                                     bounds: minimum(0))),
        ("num_beams", primitive("integer", "Beam search with this many beams (1: greedy or sampling)",
                                example: .int(2), bounds: range(1, GenerationOptions.numBeamsLimit))),
        ("length_penalty", primitive("number", "Beam scores are divided by length^length_penalty",
                                     example: .double(1.0))),
        ("repetition_penalty", primitive("number", "Penalty on tokens already generated (1: none)",
                                         example: .double(1.2), bounds: above(0))),
        ("no_repeat_ngram_size", primitive("integer", "No n-gram of this size occurs twice (0: off)",
                                           example: .int(2),
                                           bounds: range(0, GenerationOptions.noRepeatNgramSizeLimit))),
        ("do_sample", primitive("boolean", "Sample instead of greedy or beam decoding", example: .bool(true))),
        ("temperature", primitive("number", "Sampling temperature", example: .double(0.7), bounds: above(0))),
        ("top_k", primitive("integer", "Sample among the k likeliest tokens (0: all)", example: .int(5),
                            bounds: minimum(0))),
        ("top_p", primitive("number", "Nucleus sampling mass, in (0, 1]", example: .double(0.9),
                            bounds: above(0) + [("maximum", .int(1))])),
        ("num_captions", primitive("integer", "Captions per image (at most num_beams with beam search)",
                                   example: .int(1), bounds: minimum(1))),
        ("seed", primitive("integer", "Seed of the sampler, for repeatable samples", example: .int(7),
                           bounds: minimum(0))),
        timeoutOption,
        ("stream", primitive("boolean", "Stream tokens as server-sent events (as Accept: text/event-stream)",
                             example: .bool(false))),
    ]

    static let granularityOption: (String, JSON) = ("granularity", primitive(
        "string", "pooled: one vector per image (mean of the query embeddings, renormalised); tokens: one per query",
        example: .string("tokens"), values: ["pooled", "tokens"]))
    static let encodingOption: (String, JSON) = ("encoding_format", primitive(
        "string", "float: JSON numbers; base64: little-endian float32 bytes in base64", example: .string("base64"),
        values: ["float", "base64"]))
    static let embedOptions: [(String, JSON)] = [granularityOption, encodingOption, timeoutOption]

    static let scoreNames = ["itm", "itc"]
    static let matchOptions: [(String, JSON)] = [
        ("scores", array(primitive("string", "A score to compute", values: scoreNames), minItems: 1,
                         "Which scores to compute (default both); in a form or query string also comma-separated",
                         example: .array([.string("itc")]))),
        ("top_k", primitive("integer", "Texts kept in each ranking (default all)", example: .int(1),
                            bounds: minimum(1))),
        timeoutOption,
    ]

    // MARK: request bodies

    static let imageFiles = array(file(), minItems: 1, "Image files (repeat the field for several images)")
    static let imageList = array(ref("ImageData"), minItems: 1, "Images, each {\"data\": base64 or data: URI}")
    static let textList = array(string, minItems: 1, "Texts (repeat the field for several texts)")

    /// The request body of each inference route, by path. Raw image bodies take the options as query parameters.
    static let requestBodies: [String: JSON] = [
        "/caption": bodies(json: object([("images", imageList)] + captionOptions, required: ["images"]),
                           form: object([("image", imageFiles)] + captionOptions, required: ["image"]),
                           raw: true),
        "/embed": bodies(json: object([("inputs", array(anyOf([ref("ImageInput"), ref("TextInput")]), minItems: 1,
                                                        "Images and texts, in any order"))] + embedOptions,
                                      required: ["inputs"]),
                         form: object([("image", imageFiles), ("text", textList)] + embedOptions,
                                      "At least one image or text"),
                         raw: true),
        "/match": bodies(json: object([("images", imageList), ("texts", textList)] + matchOptions,
                                      required: ["images", "texts"]),
                         form: object([("image", imageFiles), ("text", textList)] + matchOptions,
                                      required: ["image", "text"]),
                         raw: true),
        "/v1/embeddings": bodies(json: object([
            ("input", anyOf([string, array(anyOf([string, ref("ImageInput"), ref("TextInput")]), minItems: 1)])),
            ("model", primitive("string", "Must name the loaded retrieval model (GET /v1/models)")),
            encodingOption,
            ("user", primitive("string", "Accepted for compatibility; unused")),
            timeoutOption,
        ], required: ["input"], "OpenAI's shape: a string is a text unless it is an image data: URI"),
                                 form: nil, raw: false),
    ]

    static func bodies(json: JSON, form: JSON?, raw: Bool) -> JSON {
        var content: [(String, JSON)] = [("application/json", .object([("schema", json)]))]
        if let form { content.append(("multipart/form-data", .object([("schema", form)]))) }
        if raw {
            for type in APIRequest.rawImageTypes.sorted() {
                content.append((type, .object([("schema", file(type))])))
            }
        }
        return .object([("required", .bool(true)), ("content", .object(content))])
    }

    /// Query parameters: the options of a raw image body (with a form they may also go here; with JSON, never).
    static let queryParameters: [String: [(String, JSON)]] = [
        "/caption": captionOptions,
        "/embed": [("text", array(string, "Texts to embed besides the image (repeat the parameter)"))] + embedOptions,
        "/match": [("text", array(string, "Texts to score the image against (repeat the parameter)"))]
            + matchOptions,
    ]

    static func parameters(_ path: String) -> JSON? {
        guard let options = queryParameters[path] else { return nil }
        return .array(options.map { name, schema in
            let repeated = name == "text" || name == "scores"
            return .object([("name", .string(name)), ("in", .string("query")), ("required", .bool(false)),
                            ("explode", .bool(repeated)), ("schema", schema)])
        })
    }

    // MARK: responses

    /// The 200 answer of each inference route, by path.
    static let okResponses: [String: JSON] = [
        "/caption": .object([
            ("description", .string("One entry per image, in order; a bad image is an entry with an error")),
            ("content", .object([
                ("application/json", .object([("schema", ref("CaptionList"))])),
                ("text/plain", .object([("schema", primitive("string", "Accept: text/plain: the caption texts, "
                                                             + "one per line"))])),
                ("text/event-stream", .object([("schema", primitive(
                    "string", "stream: true: `token` events {index, sequence, token_id, text}, then a `done` event "
                    + "holding the caption.list, then `data: [DONE]`; an error after the first token is an "
                    + "`error` event"))])),
            ])),
        ]),
        "/embed": jsonResponse("One entry per input, in order", "EmbeddingList"),
        "/match": jsonResponse("Scores of every image with every text, and a ranking per image", "Match"),
        "/v1/embeddings": jsonResponse("OpenAI's embedding list; image embeddings are pooled", "OpenAIEmbeddingList"),
    ]

    static func jsonResponse(_ description: String, _ schema: String) -> JSON {
        .object([("description", .string(description)),
                 ("content", .object([("application/json", .object([("schema", ref(schema))]))]))])
    }

    static let floats = array(number)
    static let itemError = ref("ItemError")

    static var schemas: [(String, JSON)] {
        [
            ("Error", errorSchema),
            ("ItemError", object([("code", string), ("message", string)], required: ["code", "message"],
                                 "Why one item of a request failed while the others succeeded")),
            ("ImageData", object([("data", primitive("string", "Base64 of a JPEG or PNG, or a data:image/...;base64, "
                                                     + "URI"))], required: ["data"])),
            ("ImageInput", object([("image", ref("ImageData"))], required: ["image"])),
            ("TextInput", object([("text", string)], required: ["text"])),
            ("ImageInfo", object([("sha256", string), ("width", integer), ("height", integer)],
                                 required: ["sha256", "width", "height"])),
            ("Caption", object([("text", string), ("token_ids", array(integer)),
                                ("finish_reason", primitive("string", "stop: EOS; length: max_new_tokens",
                                                            values: ["stop", "length"]))],
                               required: ["text", "token_ids", "finish_reason"])),
            ("CaptionList", object([
                ("object", constant("caption.list")), ("model", string),
                ("data", array(anyOf([
                    object([("index", integer), ("captions", array(ref("Caption"))), ("image", ref("ImageInfo")),
                            ("cached", boolean)], required: ["index", "captions", "cached"]),
                    object([("index", integer), ("error", itemError)], required: ["index", "error"]),
                ]))),
            ], required: ["object", "model", "data"])),
            ("EmbeddingList", object([
                ("object", constant("list")), ("model", string), ("dim", integer), ("normalized", boolean),
                ("data", array(anyOf([
                    object([("index", integer), ("modality", modality),
                            ("embedding", anyOf([floats, array(floats), string, array(string)])),
                            ("cached", boolean), ("image", ref("ImageInfo"))],
                           required: ["index", "modality", "embedding", "cached"]),
                    object([("index", integer), ("modality", modality), ("error", itemError)],
                           required: ["index", "modality", "error"]),
                ]))),
            ], required: ["object", "model", "dim", "normalized", "data"])),
            ("Match", object([
                ("object", constant("match")), ("model", string),
                ("itm", array(anyOf([floats, .object([("type", .string("null"))])]),
                              "[image][text] P(match); null for an image that failed")),
                ("itc", array(anyOf([floats, .object([("type", .string("null"))])]),
                              "[image][text] max over query tokens of the cosine; null for an image that failed")),
                ("results", array(anyOf([
                    object([("image_index", integer),
                            ("ranking", array(object([("text_index", integer), ("itm", number), ("itc", number)],
                                                     required: ["text_index"]))),
                            ("image", ref("ImageInfo")), ("cached", boolean)],
                           required: ["image_index", "ranking", "cached"]),
                    object([("image_index", integer), ("error", itemError)], required: ["image_index", "error"]),
                ]))),
            ], required: ["object", "model", "results"])),
            ("OpenAIEmbeddingList", object([
                ("object", constant("list")), ("model", string),
                ("data", array(anyOf([
                    object([("object", constant("embedding")), ("index", integer),
                            ("embedding", anyOf([floats, string]))], required: ["object", "index", "embedding"]),
                    object([("object", constant("embedding")), ("index", integer), ("error", itemError)],
                           required: ["object", "index", "error"]),
                ]))),
                ("usage", object([("prompt_tokens", integer), ("total_tokens", integer)],
                                 required: ["prompt_tokens", "total_tokens"])),
            ], required: ["object", "data", "model", "usage"])),
        ]
    }

    static let modality = primitive("string", "What the input was", values: ["image", "text"])
}
