// swift-tools-version:6.0
// Tiaoyu: a BLIP-2 inference server. Layout and import rules: see README.md ("Layout").
import PackageDescription

/// System C libraries, each a module map over a Debian `-dev` package (installed by Deploy/setup.sh).
func systemLibrary(_ name: String, pkgConfig: String, apt: String) -> Target {
    .systemLibrary(name: name, pkgConfig: pkgConfig, providers: [.apt([apt])])
}

let package = Package(
    name: "tiaoyu",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "tiaoyu", targets: ["tiaoyu"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
    ],
    targets: [
        // MARK: system libraries
        systemLibrary("CBLAS", pkgConfig: "openblas", apt: "libopenblas-dev"),
        systemLibrary("CTurboJPEG", pkgConfig: "libturbojpeg", apt: "libturbojpeg0-dev"),
        systemLibrary("CSpng", pkgConfig: "spng", apt: "libspng-dev"),
        systemLibrary("CZlib", pkgConfig: "zlib", apt: "zlib1g-dev"),
        systemLibrary("COpenSSL", pkgConfig: "openssl", apt: "libssl-dev"),
        // Plain C kernels with AVX2+FMA bodies chosen at run time (Swift is compiled for baseline x86-64).
        .target(name: "CKernels"),
        .systemLibrary(name: "CLinux"),  // epoll, eventfd, affinity: part of libc, nothing to link

        // MARK: numerical half
        .target(name: "Tensors", dependencies: ["CBLAS", "CKernels", "CLinux"], exclude: ["README.md"]),
        .target(name: "SafeTensors", dependencies: ["Tensors"]),
        .target(name: "Tokenizers"),
        .target(name: "ImagePipeline", dependencies: ["Tensors", "CTurboJPEG", "CSpng"]),
        .target(name: "Blip2", dependencies: ["Tensors", "SafeTensors"]),
        .target(name: "Inference", dependencies: ["Blip2", "Tokenizers", "ImagePipeline", "COpenSSL"]),

        // MARK: HTTP half
        .target(name: "HTTP1"),
        .target(
            name: "HTTPServer",
            dependencies: ["HTTP1", "CZlib", "COpenSSL", "CLinux", .product(name: "Logging", package: "swift-log")]
        ),

        .target(name: "API", dependencies: ["HTTPServer", "HTTP1", "Inference"]),

        // MARK: executable
        .executableTarget(
            name: "tiaoyu",
            dependencies: [
                "HTTPServer",
                "HTTP1",
                "Inference",
                "Blip2",
                "API",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            exclude: ["Resources/DefaultModel/README.md"],
            // The embedded default model ships next to the binary (`tiaoyu_tiaoyu.resources/DefaultModel`).
            resources: [.copy("Resources/DefaultModel")]
        ),

        // MARK: tests
        .target(
            name: "TestSupport", dependencies: ["HTTP1", "HTTPServer", "Tensors", "CZlib"], path: "Sources/TestSupport"
        ),
        .testTarget(name: "HTTP1Tests", dependencies: ["HTTP1", "TestSupport"]),
        .testTarget(name: "HTTPServerTests", dependencies: ["HTTPServer", "HTTP1", "TestSupport"]),
        .testTarget(name: "DeployTests", dependencies: ["HTTPServer", "HTTP1", "TestSupport"]),
        .testTarget(name: "TensorsTests", dependencies: ["Tensors", "SafeTensors", "TestSupport"]),
        .testTarget(name: "SafeTensorsTests", dependencies: ["SafeTensors", "TestSupport"]),
        .testTarget(name: "TokenizersTests", dependencies: ["Tokenizers", "TestSupport"]),
        .testTarget(name: "ImagePipelineTests", dependencies: ["ImagePipeline", "TestSupport"]),
        .testTarget(
            name: "InferenceTests",
            dependencies: ["Inference", "Blip2", "Tokenizers", "ImagePipeline", "Tensors", "TestSupport"]
        ),
        .testTarget(name: "CommandLineTests", dependencies: ["Inference", "TestSupport"]),
        .testTarget(
            name: "APITests",
            dependencies: ["API", "Inference", "Blip2", "ImagePipeline", "HTTPServer", "HTTP1", "TestSupport",
                           .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(
            name: "Blip2Tests", dependencies: ["Blip2", "SafeTensors", "Tensors", "ImagePipeline", "TestSupport"]
        ),
    ]
)
