import ArgumentParser

/// The `tiaoyu` command: `serve` runs the HTTP server; offline subcommands join as the model lands.
@main
struct Tiaoyu: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tiaoyu",
        abstract: "BLIP-2 inference server: captions, embeddings and image-text matching over HTTP.",
        subcommands: [Serve.self, Caption.self],
        defaultSubcommand: Serve.self
    )
}
