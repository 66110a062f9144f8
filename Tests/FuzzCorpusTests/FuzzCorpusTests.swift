import Foundation
import InletFuzzEntries
import Testing

/// Replays every file of `Fuzz/corpus/<target>/` (the seeds, what fuzzing kept, and each
/// input that once crashed) through the fuzz entries, so a regression fails here without
/// a fuzzer.
@Suite struct FuzzCorpusTests {
    static let corpus = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fuzz/corpus")

    @Test(arguments: FuzzTarget.allCases)
    func corpusReplays(_ target: FuzzTarget) throws {
        let folder = Self.corpus.appendingPathComponent(target.rawValue)
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        #expect(!names.isEmpty, "Fuzz/corpus/\(target.rawValue) holds no inputs")
        for name in names {
            let data = try Data(contentsOf: folder.appendingPathComponent(name))
            #expect(throws: Never.self, "Fuzz/corpus/\(target.rawValue)/\(name)") { try target.run(Array(data)) }
        }
    }
}
