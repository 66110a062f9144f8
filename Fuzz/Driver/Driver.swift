internal import InletFuzzEntries

// `inlet-fuzz`: one binary for every fuzz target.
//
// Built with `-sanitize=fuzzer,address -DFUZZING` (scripts/fuzz.sh), libFuzzer drives it and
// INLET_FUZZ_TARGET names the target. Built plainly (as `swift build` does), it replays
// files through a target: `inlet-fuzz json Fuzz/corpus/json/*`.

#if FUZZING
internal import Foundation

nonisolated(unsafe) private var target = FuzzTarget.json

@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> CInt {
    let name = ProcessInfo.processInfo.environment["INLET_FUZZ_TARGET"] ?? ""
    guard let chosen = FuzzTarget(rawValue: name) else {
        fatalError("set INLET_FUZZ_TARGET to one of: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", "))")
    }
    target = chosen
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    do {
        try target.run(UnsafeRawBufferPointer(start: data, count: size))
    } catch {
        fatalError("\(target.rawValue): \(error)")
    }
    return 0
}
#else
internal import Foundation

@main
struct Replay {
    static func main() throws {
        let arguments = CommandLine.arguments.dropFirst()
        guard let name = arguments.first, let target = FuzzTarget(rawValue: name) else {
            print("usage: inlet-fuzz <\(FuzzTarget.allCases.map(\.rawValue).joined(separator: "|"))> FILE...")
            exit(2)
        }
        var failed = false
        for path in arguments.dropFirst() {
            guard let data = FileManager.default.contents(atPath: path) else { continue }
            do {
                try target.run(Array(data))
            } catch {
                print("\(path): \(error)")
                failed = true
            }
        }
        exit(failed ? 1 : 0)
    }
}
#endif
