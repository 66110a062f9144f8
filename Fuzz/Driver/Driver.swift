internal import Foundation
internal import InletFuzzEntries

/// `inlet-fuzz`: one binary for every fuzz target.
///
/// Built with `-sanitize=fuzzer,address -DFUZZING` (scripts/fuzz.sh), it hands its
/// arguments to libFuzzer (`LLVMFuzzerRunDriver`) and fuzzes the target that
/// `INLET_FUZZ_TARGET` names. Built plainly, as `swift build` does, it replays files
/// through a target: `inlet-fuzz json Fuzz/corpus/json/*`.
@main
struct FuzzDriver {
    static func main() {
        #if FUZZING
        let name = ProcessInfo.processInfo.environment["INLET_FUZZ_TARGET"] ?? ""
        guard let chosen = FuzzTarget(rawValue: name) else {
            fatalError("set INLET_FUZZ_TARGET to one of: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        target = chosen
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(runDriver(&argc, &argv, testOneInput))
        #else
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
        #endif
    }
}

#if FUZZING
/// The target of this process, set once before libFuzzer starts.
nonisolated(unsafe) private var target = FuzzTarget.json

/// libFuzzer's entry for a program that has its own `main` (LLVM 11 and later).
@_silgen_name("LLVMFuzzerRunDriver")
private func runDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

private func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    do {
        try target.run(UnsafeRawBufferPointer(start: data, count: size))
    } catch {
        fatalError("\(target.rawValue): \(error)")
    }
    return 0
}
#endif
