import HTTP1
import Testing

private func body(_ text: String) -> [UInt8] { Array(text.utf8) }

@Suite("MultipartFormData")
struct MultipartFormDataTests {
    @Test("A form with a text field and a file is split into parts, preamble and epilogue ignored")
    func goodForm() throws {
        let input = body("preamble to ignore\r\n--XyZ\r\nContent-Disposition: form-data; name=\"prompt\"\r\n\r\n"
            + "a photo of\r\n--XyZ\r\n"
            + "Content-Disposition: form-data; name=\"image\"; filename=\"cat \\\"1\\\".jpg\"\r\n"
            + "Content-Type: image/jpeg\r\n\r\n\u{00}\u{01}\r\n--X\r\n--XyZ--\r\nepilogue")
        let parts = try MultipartFormData.parse(body: input, boundary: "XyZ")
        #expect(parts.count == 2)
        #expect(parts[0].name == "prompt")
        #expect(parts[0].filename == nil)
        #expect(parts[0].contentType == nil)
        #expect(parts[0].body == body("a photo of"))
        #expect(parts[1].name == "image")
        #expect(parts[1].filename == "cat \"1\".jpg")
        #expect(parts[1].contentType == "image/jpeg")
        #expect(parts[1].headers["content-type"] == "image/jpeg")
        #expect(parts[1].body == [0, 1, 0x0D, 0x0A, 0x2D, 0x2D, 0x58])
    }

    @Test("A boundary at the very start, transport padding and an empty part body are accepted")
    func boundaryAtStart() throws {
        let input = body("--b \t\r\ncontent-disposition: FORM-DATA; NAME=x\r\n\r\n\r\n--b--")
        let parts = try MultipartFormData.parse(body: input, boundary: "b")
        #expect(parts.map(\.name) == ["x"])
        #expect(parts[0].body.isEmpty)
    }

    /// (case, body, boundary, limits, expected status).
    static let failures: [(String, String, String, MultipartLimits, Int)] = [
        ("missing closing delimiter", "--b\r\nContent-Disposition: form-data; name=x\r\n\r\nvalue", "b",
         MultipartLimits(), 400),
        ("missing opening delimiter", "no boundary here", "b", MultipartLimits(), 400),
        ("empty boundary", "--\r\n", "", MultipartLimits(), 400),
        ("71-character boundary", "x", String(repeating: "b", count: 71), MultipartLimits(), 400),
        ("boundary with a forbidden character", "x", "a;b", MultipartLimits(), 400),
        ("boundary ending in a space", "x", "ab ", MultipartLimits(), 400),
        ("too many parts", String(repeating: "--b\r\nContent-Disposition: form-data; name=x\r\n\r\nv\r\n", count: 3)
            + "--b--", "b", MultipartLimits(maxParts: 2), 413),
        ("LF-only framing", "--b\nContent-Disposition: form-data; name=x\n\nvalue\n--b--\n", "b",
         MultipartLimits(), 400),
        ("LF-only part headers", "--b\r\nContent-Disposition: form-data; name=x\n\nvalue\r\n--b--", "b",
         MultipartLimits(), 400),
        ("part without Content-Disposition", "--b\r\nContent-Type: text/plain\r\n\r\nv\r\n--b--", "b",
         MultipartLimits(), 400),
        ("Content-Disposition that is not form-data",
         "--b\r\nContent-Disposition: attachment; name=x\r\n\r\nv\r\n--b--",
         "b", MultipartLimits(), 400),
        ("form-data without a name", "--b\r\nContent-Disposition: form-data; filename=a\r\n\r\nv\r\n--b--", "b",
         MultipartLimits(), 400),
        ("part header over the limit", "--b\r\nContent-Disposition: form-data; name=x\r\nX: "
            + String(repeating: "v", count: 200) + "\r\n\r\nv\r\n--b--", "b", MultipartLimits(maxPartHeaderBytes: 100),
         400),
        ("unterminated part header", "--b\r\nContent-Disposition: form-data; name=x\r\n--b--", "b",
         MultipartLimits(), 400),
        ("delimiter followed by text", "--b\r\nContent-Disposition: form-data; name=x\r\n\r\nv\r\n--bc\r\n--b--", "b",
         MultipartLimits(), 400),
        ("two Content-Disposition fields", "--b\r\nContent-Disposition: form-data; name=x\r\n"
            + "Content-Disposition: form-data; name=y\r\n\r\nv\r\n--b--", "b", MultipartLimits(), 400),
        ("no parts at all", "--b--", "b", MultipartLimits(), 400),
    ]

    @Test("Malformed or oversized multipart bodies are rejected", arguments: failures.indices)
    func rejects(index: Int) {
        let (name, text, boundary, limits, status) = Self.failures[index]
        do {
            let parts = try MultipartFormData.parse(body: body(text), boundary: boundary, limits: limits)
            Issue.record("\(name): parsed \(parts.count) parts, expected \(status)")
        } catch {
            #expect(error.status == status, "\(name): \(error)")
        }
    }

    @Test("The boundary from a quoted Content-Type parameter drives the split")
    func boundaryFromMediaType() throws {
        let type = try #require(HTTPMediaType.parse("Multipart/Form-Data; Boundary=\"----x y'z\""))
        #expect(type.type == "multipart")
        #expect(type.subtype == "form-data")
        let boundary = try #require(type.parameter("boundary"))
        #expect(MultipartFormData.isValidBoundary(boundary))
        let parts = try MultipartFormData.parse(
            body: body("------x y'z\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n------x y'z--\r\n"),
            boundary: boundary)
        #expect(parts.map(\.body) == [body("1")])
    }
}
