import HTTP1
import HTTPServer
import Inference

// `POST /v1/embeddings` in OpenAI's shape, so OpenAI client libraries can call Tiaoyu: `input` is a string or
// an array of inputs; a string is a text unless it is an image `data:` URI; an object is `{"text"}` or
// `{"image": {"data"}}` as in `/embed`. Image embeddings are pooled.
extension Endpoints {
    static func openAIEmbeddings(_ request: HTTPServerRequest, responder: HTTPResponder, engine: Engine)
        throws(APIError)
    {
        let body = try APIRequest(request, kinds: [:])
        guard body.isJSON else {
            throw APIError(status: 415, code: "unsupported_media_type", message: "/v1/embeddings takes JSON")
        }
        let fields = try JSONFields(body.fields, path: "", allowed: ["input", "model", "encoding_format", "user",
                                                                     "timeout_ms"])
        if let model = try fields.string("model") {
            let loaded = engine.retrieval.map { Engine.modelName($0.directory) }
            guard model == loaded else {
                throw APIError(status: 404, code: "model_not_found",
                               message: "model \(model) is not served here; GET /v1/models lists what is")
            }
        }
        _ = try fields.string("user")  // accepted for compatibility, not used
        let values: [JSONValue]
        switch fields.value("input") {
        case .array(let list)?: values = list
        case let single?: values = [single]
        case nil: throw .badField("input", "is required")
        }
        var inputs: [EmbedInput] = []
        for (index, value) in values.enumerated() {
            let path = "input[\(index)]"
            switch value {
            case .string(let text) where text.hasPrefix("data:image/"):
                inputs.append(.image(try APIRequest.imageBytes(.object(["data": value]), path: path)))
            case .string(let text):
                inputs.append(.text(text))
            case .object:
                let item = try JSONFields(value, path: path, allowed: ["image", "text"])
                switch (item.value("image"), try item.string("text")) {
                case (let image?, nil): inputs.append(.image(try APIRequest.imageBytes(image, path: path + ".image")))
                case (nil, let text?): inputs.append(.text(text))
                default: throw .badField(path, "must have exactly one of \"image\" and \"text\"")
                }
            default:
                throw .badField(path, "must be a string or an object")
            }
        }
        guard !inputs.isEmpty else { throw .badField("input", "must not be empty") }
        let encoding = try fields.string("encoding_format") ?? "float"
        guard encoding == "float" || encoding == "base64" else {
            throw .badField("encoding_format", "must be \"float\" or \"base64\"")
        }
        let embedRequest = EmbedRequest(inputs: inputs, granularity: .pooled, timeout: try APIRequest.timeout(fields))
        engine.embed(embedRequest, cancel: API.cancelToken(responder)) { result in
            API.reply(responder, result, timing: \.timing) { value in
                .json(200, openAIJSON(value, base64: encoding == "base64").bytes)
            }
        }
    }

    static func openAIJSON(_ result: EmbedResult, base64: Bool) -> JSON {
        let data: [JSON] = result.items.map { item in
            var fields: [(String, JSON)] = [("object", .string("embedding")), ("index", .int(item.index))]
            if let error = item.error {
                fields.append(("error", APIError(error).itemJSON))
            } else {
                let vector = item.embedding.first ?? []
                fields.append(("embedding", base64 ? .string(encode(vector)) : .array(vector.map { .float($0) })))
            }
            return .object(fields)
        }
        let tokens = result.items.reduce(0) { $0 + $1.tokenCount }
        return .object([("object", .string("list")), ("data", .array(data)), ("model", .string(result.model)),
                        ("usage", .object([("prompt_tokens", .int(tokens)), ("total_tokens", .int(tokens))]))])
    }
}
