// Cross-check against h11 0.16.0 (Tests/Reference/http_oracle.py -> Tests/Fixtures/http1/h11_oracle.json).
// Invariant: we are never more lenient than h11 (everything it rejects, we reject), except where listed; where it
// accepts, we accept with the same method, target and body, except where we are deliberately stricter.
import Foundation
import HTTP1
import Testing
import TestSupport

private struct OracleRow: Decodable {
    let id: String
    let payload: String
    let h11: String
    let method: String?
    let target: String?
    let body: String?
}

private struct OracleFixture: Decodable {
    let rows: [OracleRow]
}

/// Rows h11 rejects that we accept, and why.
private let moreLenientThanH11: [String: String] = [
    "A2 one leading empty line": "RFC 9112 §2.2: a server SHOULD ignore at least one empty line before the request",
]

/// Rows h11 accepts (or waits on) that we reject by design (http-reference §1), and why.
private let stricterThanH11: [String: String] = [
    "A5 HTTP/2.0": "505: only HTTP/1.x is served (A5)",
    "B4 obs-fold": "obs-fold is rejected, never unfolded (B4)",
    "B9 BEL in a value": "control characters in values are rejected (B9)",
    "B10 bare LF line endings": "CRLF is required (B10)",
    "C6 two identical Content-Lengths": "any repeated Content-Length is rejected (C6)",
    "C6 Content-Length 5, 5": "Content-Length must be 1*DIGIT (C6)",
    "D10 chunked in HTTP/1.0": "Transfer-Encoding in HTTP/1.0 is faulty framing (D10)",
    "E1 CL.TE": "Transfer-Encoding with Content-Length is rejected like nginx (E1)",
    "E2 TE.CL": "Transfer-Encoding with Content-Length is rejected like nginx (E2)",
    "E9 LF-separated Content-Length": "bare LF inside the header section is rejected (E9)",
    "H5 unknown expectation": "417 for expectations other than 100-continue (H5)",
]

@Suite("Cross-check with h11")
struct H11OracleTests {
    @Test("The parser rejects what h11 rejects and agrees on what it accepts, deviations listed")
    func agreesWithH11() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../Fixtures/http1/h11_oracle.json")
        let rows = try JSONDecoder().decode(OracleFixture.self, from: Data(contentsOf: url)).rows
        #expect(rows.count > 60)
        for row in rows {
            let payload = try #require(Data(base64Encoded: row.payload))
            let events = try HTTPParserVerifier.verify([UInt8](payload))
            let rejected = events.contains { if case .error = $0 { true } else { false } }
            let complete = events.contains { if case .end = $0 { true } else { false } }
            switch row.h11 {
            case "reject":
                #expect(rejected || moreLenientThanH11[row.id] != nil, "\(row.id): h11 rejects, we accept")
            case "accept" where stricterThanH11[row.id] != nil, "incomplete" where stricterThanH11[row.id] != nil:
                #expect(rejected, "\(row.id): listed as stricter than h11 but accepted")
            case "accept":
                #expect(complete && !rejected, "\(row.id): h11 accepts, we do not")
                guard case .head(let head)? = events.first else { continue }
                #expect(head.method.rawValue == row.method, "\(row.id)")
                #expect(head.target == row.target, "\(row.id)")
                let body: [UInt8] = events.flatMap { event -> [UInt8] in
                    if case .body(let piece) = event { piece } else { [] }
                }
                #expect(Data(body).base64EncodedString() == row.body, "\(row.id)")
            default:
                #expect(!rejected && !complete, "\(row.id): h11 waits for more data, we do not")
            }
        }
    }
}
