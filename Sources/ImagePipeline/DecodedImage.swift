/// A decoder's result: upright-agnostic RGB plus the raw EXIF block, so orientation is applied in one place.
struct DecodedImage {
    let format: ImageFormat
    let image: RGBImage
    /// The EXIF block (TIFF header onwards, possibly with the "Exif\0\0" prefix), if the file carried one.
    let exif: [UInt8]?
    /// The XMP packet, if any: PIL falls back to its `tiff:Orientation` when EXIF has no Orientation tag.
    let xmp: [UInt8]?
}
