// async/await variants of the RefundClient calls (hand-written, not generated).
import Dispatch
import Foundation

extension RefundClient {
    /// `createRefund(request:)` as an `async` call: the blocking call runs on a global dispatch
    /// queue, never on the caller's executor.
    ///
    /// Cancellation: a cancelled task resumes at once with `CancellationError`, but the call is never
    /// cut short — it runs to its end on its thread (with its retries, each re-sending the same
    /// signed bytes) and its result is dropped. A cancelled apply may therefore still have reached
    /// WeChat Pay: query it, or apply again with the same `outRefundNo` (refunded once per number).
    public func createRefund(request: CreateRefundRequest) async throws -> Refund {
        try await runBlockingCall { try self.createRefund(request: request) }
    }

    /// `queryRefund(outRefundNo:subMchid:)` as an `async` call (see `createRefund(request:) async`).
    public func queryRefund(outRefundNo: String, subMchid: String? = nil) async throws -> Refund {
        try await runBlockingCall { try self.queryRefund(outRefundNo: outRefundNo, subMchid: subMchid) }
    }

    /// `applyAbnormalRefund(request:)` as an `async` call (see `createRefund(request:) async`).
    public func applyAbnormalRefund(request: AbnormalRefundRequest) async throws -> Refund {
        try await runBlockingCall { try self.applyAbnormalRefund(request: request) }
    }

    /// `parseNotification(headers:body:)` as an `async` call: verification and decryption are CPU
    /// work (tens of microseconds), run off the caller's executor like the rest.
    public func parseNotification(headers: [String: String], body: Data) async throws -> RefundNotification {
        try await runBlockingCall { try self.parseNotification(headers: headers, body: body) }
    }

    /// `refreshPlatformCertificates()` (`GET /v3/certificates`) as an `async` call.
    public func refreshPlatformCertificates() async throws -> [PlatformCertificate] {
        try await runBlockingCall { try self.refreshPlatformCertificates() }
    }
}

extension V2RefundClient {
    /// `refund(request:)` (legacy v2, mutual TLS) as an `async` call, with the rules of
    /// `RefundClient.createRefund(request:) async` (cancellation never cuts the call short).
    public func refund(request: V2RefundRequest) async throws -> V2Refund {
        try await runBlockingCall { try self.refund(request: request) }
    }

    /// `refundQuery(query:)` as an `async` call.
    public func refundQuery(query: V2RefundQuery) async throws -> V2RefundQueryResult {
        try await runBlockingCall { try self.refundQuery(query: query) }
    }

    /// `parseRefundNotification(body:)` as an `async` call (CPU only).
    public func parseRefundNotification(body: Data) async throws -> V2RefundNotification {
        try await runBlockingCall { try self.parseRefundNotification(body: body) }
    }
}

/// Runs `call` on a global queue; resumes with its outcome, or with `CancellationError` as soon as
/// the task is cancelled (the call then still runs to its end, and its outcome is dropped).
func runBlockingCall<T>(_ call: @escaping () throws -> T) async throws -> T {
    let once = ResumeOnce<T>()
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, Error>) in
            once.install(continuation)
            DispatchQueue.global(qos: .userInitiated).async {
                once.resume(with: Result { try call() })
            }
        }
    } onCancel: {
        once.resume(with: .failure(CancellationError()))
    }
}

/// Resumes a continuation exactly once, whichever comes first: the outcome or the cancellation
/// (which may also arrive before the continuation is installed).
final class ResumeOnce<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var continuation: CheckedContinuation<T, Error>?
    private var pending: Result<T, Error>?
    private var done = false

    func install(_ c: CheckedContinuation<T, Error>) {
        lock.lock()
        if let early = pending {
            pending = nil
            done = true
            lock.unlock()
            c.resume(with: early)
            return
        }
        continuation = c
        lock.unlock()
    }

    func resume(with result: Result<T, Error>) {
        lock.lock()
        if done || pending != nil {
            lock.unlock()
            return
        }
        guard let c = continuation else {
            pending = result // not installed yet: install() resumes with it
            lock.unlock()
            return
        }
        continuation = nil
        done = true
        lock.unlock()
        c.resume(with: result)
    }
}
