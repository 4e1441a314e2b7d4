// swift-tools-version:6.0
// Vision + Q-Former benchmark (Tests/Benchmarks/vision/run.sh). A separate package so the main manifest gains
// no benchmark target: it builds the main package's CBLAS, CKernels, Tensors, SafeTensors and Blip2 sources
// through the symlinks under Sources/ (the main package exports no library product to depend on).
import PackageDescription

let package = Package(
    name: "vision-bench",
    targets: [
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .target(name: "CKernels"),
        .target(name: "Tensors", dependencies: ["CBLAS", "CKernels"], exclude: ["README.md"]),
        .target(name: "SafeTensors", dependencies: ["Tensors"]),
        .target(name: "Blip2", dependencies: ["Tensors", "SafeTensors"]),
        .executableTarget(name: "VisionBench", dependencies: ["Blip2", "Tensors", "SafeTensors", "CBLAS"]),
    ]
)
