import Foundation
import HTTP1
import Testing

/// One row of Tests/Fixtures/http1/imf_fixdates.json, written by Tests/Reference/http_dates.py.
private struct DateRow: Decodable, Sendable, CustomTestStringConvertible {
    let epoch: Int
    let date: String
    var testDescription: String { "\(epoch)" }
}

private struct DateFixture: Decodable {
    let rows: [DateRow]
}

private func loadDateRows() throws -> [DateRow] {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../Fixtures/http1/imf_fixdates.json")
    return try JSONDecoder().decode(DateFixture.self, from: Data(contentsOf: url)).rows
}

@Suite("HTTPDate")
struct HTTPDateTests {
    @Test("IMF-fixdate matches Python's email.utils for every fixture row")
    func matchesPythonOracle() throws {
        let rows = try loadDateRows()
        #expect(rows.count > 50)
        for row in rows {
            #expect(HTTPDate.imfFixdate(epochSeconds: row.epoch) == row.date, "epoch \(row.epoch)")
        }
    }
}
