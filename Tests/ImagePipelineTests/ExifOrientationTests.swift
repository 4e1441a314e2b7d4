import Testing
@testable import ImagePipeline

/// EXIF orientation: parsing is bounds-checked, the transposes match PIL (see also the `jpeg_exif_*` parity
/// fixtures), and the step can be switched off.
@Suite struct ExifOrientationTests {
    @Test("orientation is applied by default and skipped when switched off")
    func switchable() throws {
        let jpeg = try ImageFixtures.file(named: "jpeg_exif_6.jpg")  // stored 14x9, displayed 9x14
        let upright = try ImageDecoder.decode(jpeg)
        #expect(upright.width == 9 && upright.height == 14)
        let raw = try ImageDecoder.decode(jpeg, options: DecodeOptions(applyExifOrientation: false))
        #expect(raw.width == 14 && raw.height == 9)
        #expect(ExifOrientation.rotate90Clockwise.apply(to: raw) == upright)
    }

    @Test("a big-endian Exif block built by hand is read and applied", arguments: [false, true])
    func handBuiltExif(bigEndian: Bool) throws {
        let plain = try ImageFixtures.file(named: "jpeg_baseline_420.jpg")
        let image = try ImageDecoder.decode(plain)
        for orientation in ExifOrientation.allCases {
            let segment = ImageBuilders.exifSegment(orientation: UInt16(orientation.rawValue), bigEndian: bigEndian)
            let tagged = ImageBuilders.inserting(segment, into: plain)
            #expect(try ImageDecoder.decode(tagged) == orientation.apply(to: image), "\(orientation)")
        }
    }

    @Test("an out-of-range orientation leaves the image as is")
    func outOfRangeValue() throws {
        let plain = try ImageFixtures.file(named: "jpeg_baseline_420.jpg")
        let tagged = ImageBuilders.inserting(ImageBuilders.exifSegment(orientation: 9, bigEndian: false), into: plain)
        #expect(try ImageDecoder.decode(tagged) == (try ImageDecoder.decode(plain)))
    }

    @Test("malformed Exif blocks parse to nil instead of trapping")
    func malformedBlocks() {
        let good = Array(ImageBuilders.exifSegment(orientation: 6, bigEndian: true).dropFirst(4))
        #expect(ExifOrientation.parse(exif: good) == .rotate90Clockwise)
        // Every truncation of a valid block.
        for length in 0..<good.count - 1 {
            _ = ExifOrientation.parse(exif: Array(good.prefix(length)))
        }
        #expect(ExifOrientation.parse(exif: Array(good.prefix(good.count - 8))) == nil)
        // IFD offset pointing past the end.
        var farOffset = good
        farOffset[10...13] = [0x7F, 0xFF, 0xFF, 0xFF]
        #expect(ExifOrientation.parse(exif: farOffset) == nil)
        // Entry count far larger than the data.
        var hugeCount = good
        hugeCount[14...15] = [0xFF, 0xFF]
        #expect(ExifOrientation.parse(exif: hugeCount) == nil)
        // A non-integer TIFF type for Orientation (UNDEFINED).
        var wrongType = good
        wrongType[19] = 7
        #expect(ExifOrientation.parse(exif: wrongType) == nil)
        // Not TIFF at all.
        #expect(ExifOrientation.parse(exif: Array("Exif\0\0XXXXXXXX".utf8)) == nil)
    }

    @Test("each transpose maps a 3x2 image the way PIL's Transpose methods do")
    func smallTransposes() {
        // Pixels numbered 0...5 row-major in a 3-wide, 2-high image (value in the red byte).
        let image = RGBImage(width: 3, height: 2, pixels: (0..<6).flatMap { [UInt8($0), 0, 0] })
        func reds(_ o: ExifOrientation) -> [UInt8] {
            let out = o.apply(to: image)
            return stride(from: 0, to: out.pixels.count, by: 3).map { out.pixels[$0] }
        }
        #expect(reds(.normal) == [0, 1, 2, 3, 4, 5])
        #expect(reds(.mirrorHorizontal) == [2, 1, 0, 5, 4, 3])
        #expect(reds(.rotate180) == [5, 4, 3, 2, 1, 0])
        #expect(reds(.mirrorVertical) == [3, 4, 5, 0, 1, 2])
        #expect(reds(.transpose) == [0, 3, 1, 4, 2, 5])
        #expect(reds(.rotate90Clockwise) == [3, 0, 4, 1, 5, 2])
        #expect(reds(.transverse) == [5, 2, 4, 1, 3, 0])
        #expect(reds(.rotate90CounterClockwise) == [2, 5, 1, 4, 0, 3])
    }

    @Test("the XMP fallback reads tiff:Orientation the way Pillow's pattern does")
    func xmpFallback() {
        func value(_ text: String) -> Int? { ExifOrientation.xmpValue(Array(text.utf8)) }
        #expect(value(#"<rdf:Description tiff:Orientation="6"/>"#) == 6)
        #expect(value("<tiff:Orientation>8</tiff:Orientation>") == 8)
        #expect(value(#"tiff:Orientation='6' tiff:Orientation="3""#) == 3)  // first match of the whole pattern
        #expect(value(#"tiff:Orientation="x""#) == nil)
        #expect(value("tiff:Orientation") == nil)
        #expect(value("") == nil)
        // EXIF, when it has the tag, wins over XMP even with a value PIL ignores.
        let exif = Array(ImageBuilders.exifSegment(orientation: 1, bigEndian: false).dropFirst(4))
        #expect(ExifOrientation.resolve(exif: exif, xmp: Array(#"tiff:Orientation="6""#.utf8)) == .normal)
        #expect(ExifOrientation.resolve(exif: nil, xmp: Array(#"tiff:Orientation="6""#.utf8)) == .rotate90Clockwise)
    }
}
