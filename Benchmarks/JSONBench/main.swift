// inlet-json-bench: what the jansson wrapper (JSONDocument / JSONNode / JSONValue) costs
// over calling jansson directly, and where Foundation's Codable stands beside both.
//
//   swift build -c release --product inlet-json-bench
//   .build/release/inlet-json-bench [fixtures/auth0-action] [iterations]
//
// Every case does the whole job (parse, read every field UserLogin reads into Swift
// values, free) and folds the lengths it read into a checksum that is printed, so the
// optimiser cannot drop the work. Each case: warm-up, then 5 rounds of `iterations`
// operations (a round stops early after ~3 s / 5), the rounds of the raw, wrapper and
// Foundation cases interleaved; best round reported in ns/op.

import CJansson
import Foundation
import InletCore

// MARK: - Harness

let clock = ContinuousClock()
let rounds = 5
/// Time budget per case (all its rounds together); a round stops early past budget/rounds.
let caseBudget: Duration = .seconds(3)

/// Sink for the checksum; global and printed at the end.
nonisolated(unsafe) var checksum: Int = 0

@inline(never)
func consume(_ value: Int) {
    checksum &+= value
}

/// Runs each case in `rounds` rounds, interleaved (round 1 of every case, then round 2...)
/// so that a slow spell of the machine hits all of them alike; returns the best ns/op of
/// each case. A round is `iterations` operations, or fewer once it has run budget/rounds.
@inline(never)
func measure(_ iterations: Int, _ cases: [() -> Int]) -> [Double] {
    // Warm-up: caches, allocator, lazy initialisers.
    for body in cases {
        var sum = 0
        for _ in 0..<min(iterations, 5_000) { sum &+= body() }
        consume(sum)
    }
    let perRound = caseBudget / rounds
    var best = [Double](repeating: .infinity, count: cases.count)
    for _ in 0..<rounds {
        for (index, body) in cases.enumerated() {
            var done = 0
            var local = 0
            let start = clock.now
            var elapsed: Duration = .zero
            // Check the clock every 1024 operations so the check itself costs nothing visible.
            while done < iterations {
                let chunk = min(1_024, iterations - done)
                for _ in 0..<chunk { local &+= body() }
                done += chunk
                elapsed = start.duration(to: clock.now)
                if elapsed > perRound { break }
            }
            consume(local)
            let ns = Double(elapsed.components.seconds) * 1e9 + Double(elapsed.components.attoseconds) / 1e9
            best[index] = min(best[index], ns / Double(done))
        }
    }
    return best
}

// MARK: - (a) raw jansson

let decodeFlags = Int(JSON_REJECT_DUPLICATES | JSON_DECODE_ANY)

@inline(__always)
func rawString(_ object: UnsafeMutablePointer<json_t>, _ key: String) -> String? {
    guard let child = json_object_get(object, key) else { return nil }
    let type = CJansson_typeof(child)
    if type == Int32(JSON_NULL.rawValue) { return nil }
    guard type == Int32(JSON_STRING.rawValue), let base = json_string_value(child) else { return nil }
    return String(decoding: UnsafeRawBufferPointer(start: base, count: json_string_length(child)), as: UTF8.self)
}

@inline(never)
func rawParse(_ bytes: UnsafeRawBufferPointer) -> Int {
    var error = json_error_t()
    guard let root = json_loadb(bytes.baseAddress!.assumingMemoryBound(to: CChar.self), bytes.count, decodeFlags, &error) else {
        fatalError("raw jansson: parse failed")
    }
    defer { CJansson_decref(root) }
    guard CJansson_typeof(root) == Int32(JSON_OBJECT.rawValue) else { fatalError("not an object") }
    var total = 0
    guard let id = rawString(root, "auth0Id"), !id.isEmpty else { fatalError("no auth0Id") }
    total &+= id.utf8.count
    total &+= rawString(root, "email")?.utf8.count ?? 0
    total &+= rawString(root, "name")?.utf8.count ?? 0
    total &+= rawString(root, "picture")?.utf8.count ?? 0
    if let verified = json_object_get(root, "emailVerified") {
        let type = CJansson_typeof(verified)
        if type == Int32(JSON_TRUE.rawValue) { total &+= 1 }
    }
    if let count = json_object_get(root, "loginsCount"), CJansson_typeof(count) == Int32(JSON_INTEGER.rawValue) {
        total &+= Int(json_integer_value(count))
    }
    total &+= rawString(root, "ip")?.utf8.count ?? 0
    total &+= rawString(root, "userAgent")?.utf8.count ?? 0
    total &+= rawString(root, "protocol")?.utf8.count ?? 0
    return total
}

// MARK: - (b) the wrapper

let limits = JSONDocument.Limits(maxBytes: 65_536, maxDepth: 32)

@inline(__always)
func loginLength(_ login: UserLogin) -> Int {
    var total = login.auth0ID.utf8.count
    total &+= login.email?.utf8.count ?? 0
    total &+= login.name?.utf8.count ?? 0
    total &+= login.picture?.utf8.count ?? 0
    total &+= login.emailVerified == true ? 1 : 0
    total &+= login.loginsCount ?? 0
    total &+= login.ip?.utf8.count ?? 0
    total &+= login.userAgent?.utf8.count ?? 0
    total &+= login.transactionProtocol?.utf8.count ?? 0
    return total
}

@inline(never)
func wrapperParse(_ bytes: UnsafeRawBufferPointer) -> Int {
    do {
        let document = try JSONDocument.parse(bytes, limits: limits)
        return loginLength(try UserLogin(json: document.root.requireObject()))
    } catch {
        fatalError("wrapper: \(error)")
    }
}

// MARK: - (c) Foundation

struct LoginBody: Decodable {
    var auth0Id: String
    var email: String?
    var name: String?
    var picture: String?
    var emailVerified: Bool?
    var loginsCount: Int?
    var ip: String?
    var userAgent: String?
    var `protocol`: String?
}

@inline(never)
func foundationParse(_ data: Data, _ decoder: JSONDecoder) -> Int {
    do {
        let body = try decoder.decode(LoginBody.self, from: data)
        var total = body.auth0Id.utf8.count
        total &+= body.email?.utf8.count ?? 0
        total &+= body.name?.utf8.count ?? 0
        total &+= body.picture?.utf8.count ?? 0
        total &+= body.emailVerified == true ? 1 : 0
        total &+= body.loginsCount ?? 0
        total &+= body.ip?.utf8.count ?? 0
        total &+= body.userAgent?.utf8.count ?? 0
        total &+= body.protocol?.utf8.count ?? 0
        return total
    } catch {
        fatalError("Foundation: \(error)")
    }
}

// MARK: - Serialisation of {"success":true,"user_id":N,"created":false}

@inline(never)
func rawSerialize(_ userID: Int) -> Int {
    let object = json_object()!
    _ = json_object_set_new_nocheck(object, "success", json_true())
    _ = json_object_set_new_nocheck(object, "user_id", json_integer(json_int_t(userID)))
    _ = json_object_set_new_nocheck(object, "created", json_false())
    defer { CJansson_decref(object) }
    let flags = Int(JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY)
    // Same output shape as the wrapper: a Swift [UInt8] holding exactly the bytes.
    var output = [UInt8](repeating: 0, count: 256)
    let needed = output.withUnsafeMutableBytes { raw in
        json_dumpb(object, raw.baseAddress!.assumingMemoryBound(to: CChar.self), 256, flags)
    }
    precondition(needed > 0 && needed <= 256)
    output.removeLast(256 - needed)
    return output.count
}

@inline(never)
func wrapperSerialize(_ userID: Int) -> Int {
    let body: JSONValue = ["success": true, "user_id": .int(userID), "created": false]
    return body.serialized().count
}

struct SyncResponse: Encodable {
    var success: Bool
    var user_id: Int
    var created: Bool
}

@inline(never)
func foundationSerialize(_ userID: Int, _ encoder: JSONEncoder) -> Int {
    do {
        return try encoder.encode(SyncResponse(success: true, user_id: userID, created: false)).count
    } catch {
        fatalError("Foundation: \(error)")
    }
}

// MARK: - Main

let arguments = CommandLine.arguments
let folder = arguments.count > 1 ? arguments[1] : "fixtures/auth0-action"
let iterations = arguments.count > 2 ? Int(arguments[2]) ?? 200_000 : 200_000

guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else {
    FileHandle.standardError.write(Data("cannot list \(folder)\n".utf8))
    exit(2)
}
let fixtures: [(name: String, bytes: [UInt8])] = names.filter { $0.hasSuffix(".json") }.sorted().compactMap { name in
    guard let data = FileManager.default.contents(atPath: "\(folder)/\(name)") else { return nil }
    return (name, [UInt8](data))
}
guard !fixtures.isEmpty else {
    FileHandle.standardError.write(Data("no .json fixtures in \(folder)\n".utf8))
    exit(2)
}

func pad(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
}
func lpad(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
}
func f1(_ value: Double) -> String { String(format: "%.1f", value) }

let decoder = JSONDecoder()
let encoder = JSONEncoder()

print("inlet-json-bench: \(fixtures.count) payloads from \(folder), \(iterations) iterations x \(rounds) rounds (best), budget \(caseBudget) per case")
print("")
print("parse + read the UserLogin fields (ns/op)")
print(pad("payload", 26) + lpad("bytes", 7) + lpad("raw", 10) + lpad("wrapper", 10) + lpad("Foundation", 12) + lpad("wrap/raw", 10) + lpad("Fdn/raw", 9))

var parseRawTotal = 0.0
var parseWrapTotal = 0.0
for fixture in fixtures {
    let data = Data(fixture.bytes)
    // The three readers must agree before their speed means anything.
    let expected = fixture.bytes.withUnsafeBytes { rawParse($0) }
    let viaWrapper = fixture.bytes.withUnsafeBytes { wrapperParse($0) }
    let viaFoundation = foundationParse(data, decoder)
    precondition(expected == viaWrapper && expected == viaFoundation, "\(fixture.name): readers disagree")

    // The bytes stay in one array for the whole measurement.
    let results = fixture.bytes.withUnsafeBytes { bytes in
        measure(iterations, [{ rawParse(bytes) }, { wrapperParse(bytes) }, { foundationParse(data, decoder) }])
    }
    let (raw, wrapped, foundation) = (results[0], results[1], results[2])
    parseRawTotal += raw
    parseWrapTotal += wrapped
    print(
        pad(fixture.name, 26) + lpad("\(fixture.bytes.count)", 7) + lpad(f1(raw), 10) + lpad(f1(wrapped), 10)
            + lpad(f1(foundation), 12) + lpad(String(format: "%.3f", wrapped / raw), 10)
            + lpad(String(format: "%.2f", foundation / raw), 9)
    )
}

print("")
print("serialise {\"success\":true,\"user_id\":N,\"created\":false} (ns/op)")
precondition(rawSerialize(12_345) == wrapperSerialize(12_345))
let serializeResults = measure(iterations, [{ rawSerialize(12_345) }, { wrapperSerialize(12_345) }, { foundationSerialize(12_345, encoder) }])
let (serializeRaw, serializeWrap, serializeFoundation) = (serializeResults[0], serializeResults[1], serializeResults[2])
print(pad("", 33) + lpad("raw", 10) + lpad("wrapper", 10) + lpad("Foundation", 12) + lpad("wrap/raw", 10) + lpad("Fdn/raw", 9))
print(
    pad("response", 33) + lpad(f1(serializeRaw), 10) + lpad(f1(serializeWrap), 10) + lpad(f1(serializeFoundation), 12)
        + lpad(String(format: "%.3f", serializeWrap / serializeRaw), 10)
        + lpad(String(format: "%.2f", serializeFoundation / serializeRaw), 9)
)

print("")
print("checksum \(checksum)")
let parseOverhead = (parseWrapTotal / parseRawTotal - 1) * 100
let serializeOverhead = (serializeWrap / serializeRaw - 1) * 100
print(String(format: "wrapper overhead vs raw jansson: parse %+.1f%%, serialize %+.1f%%", parseOverhead, serializeOverhead))
