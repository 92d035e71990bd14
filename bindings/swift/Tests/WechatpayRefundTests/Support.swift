import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import XCTest
import WechatpayRefund

/// The shared golden vectors in tests/vectors/ (see tests/vectors/README.md).
enum Vectors {
    /// `WECHATPAY_VECTORS`, else `tests/vectors` of the repository this file lives in.
    static let dir: URL = {
        if let d = ProcessInfo.processInfo.environment["WECHATPAY_VECTORS"] {
            return URL(fileURLWithPath: d)
        }
        // Tests/WechatpayRefundTests/Support.swift -> bindings/swift -> repository root
        return URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("tests/vectors")
    }()

    static func load(_ name: String) throws -> [String: Any] {
        let data = try Data(contentsOf: dir.appendingPathComponent(name))
        guard let obj = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw VectorError.shape("\(name) is not a JSON object")
        }
        return obj
    }

    static func cases(_ file: [String: Any]) throws -> [[String: Any]] {
        guard let c = file["cases"] as? [[String: Any]] else { throw VectorError.shape("no cases") }
        return c
    }
}

enum VectorError: Error { case shape(String) }

extension Dictionary where Key == String, Value == Any {
    func str(_ k: String) throws -> String {
        guard let v = self[k] as? String else { throw VectorError.shape("\(k) is not a string") }
        return v
    }

    func strOrNil(_ k: String) -> String? { self[k] as? String }

    func int(_ k: String) throws -> Int64 {
        if let n = self[k] as? NSNumber { return n.int64Value }
        if let n = self[k] as? Int { return Int64(n) }
        throw VectorError.shape("\(k) is not an integer")
    }

    func obj(_ k: String) throws -> [String: Any] {
        guard let v = self[k] as? [String: Any] else { throw VectorError.shape("\(k) is not an object") }
        return v
    }
}

/// Runs `body`, which must throw a `RefundError`, and returns that error (nil after recording a
/// failure otherwise).
func refundError<T>(_ body: () throws -> T, file: StaticString = #filePath, line: UInt = #line) -> RefundError? {
    do {
        _ = try body()
        XCTFail("expected a RefundError, nothing was thrown", file: file, line: line)
    } catch let e as RefundError {
        return e
    } catch {
        XCTFail("expected a RefundError, got \(error)", file: file, line: line)
    }
    return nil
}

extension HttpRequest {
    func header(_ name: String) -> String? {
        headers.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
    }
}

/// An `HttpTransport` on Foundation's `URLSession`: what an iOS/macOS app (or a server with its
/// own HTTP stack) plugs into `RefundClient.withTransport`. Every HTTP status is a response; only a
/// failed exchange throws `RefundError.Transport`.
final class URLSessionTransport: HttpTransport, @unchecked Sendable {
    private let session: URLSession
    private let lock = NSLock()
    private var count = 0

    var calls: Int { lock.lock(); defer { lock.unlock() }; return count }

    init(timeout: TimeInterval = 10) {
        let cfg = URLSessionConfiguration.ephemeral
        cfg.timeoutIntervalForRequest = timeout
        session = URLSession(configuration: cfg)
    }

    func send(request: HttpRequest) throws -> HttpResponse {
        lock.lock(); count += 1; lock.unlock()
        guard let url = URL(string: request.url) else {
            throw RefundError.Transport(kind: .invalidUrl, reason: "bad URL \(request.url)", retryable: false)
        }
        var r = URLRequest(url: url)
        r.httpMethod = request.method
        for h in request.headers { r.addValue(h.value, forHTTPHeaderField: h.name) }
        if !request.body.isEmpty { r.httpBody = request.body } // exactly the signed bytes

        // The binding's API is blocking: wait for the completion handler.
        let done = DispatchSemaphore(value: 0)
        var result: (Data?, URLResponse?, Error?) = (nil, nil, nil)
        session.dataTask(with: r) { data, response, error in
            result = (data, response, error)
            done.signal()
        }.resume()
        done.wait()

        if let error = result.2 {
            let code = (error as? URLError)?.code
            let kind: TransportErrorKind = code == .timedOut ? .timeout
                : (code == .cannotConnectToHost || code == .cannotFindHost) ? .connect : .io
            throw RefundError.Transport(kind: kind, reason: "\(error)", retryable: true)
        }
        guard let http = result.1 as? HTTPURLResponse else {
            throw RefundError.Transport(kind: .protocol, reason: "not an HTTP response", retryable: true)
        }
        let headers = http.allHeaderFields.compactMap { k, v -> HttpHeader? in
            guard let name = k as? String else { return nil }
            return HttpHeader(name: name, value: "\(v)")
        }
        return HttpResponse(status: UInt16(http.statusCode), headers: headers, body: result.0 ?? Data())
    }
}
