import CLibXML2
import COpenSSL
import CXMLSec
import Foundation
import NIOConcurrencyHelpers

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

// The xmlsec1 (OpenSSL backend) side of XML-DSig: one-time library set-up, error capture into Swift,
// the keys manager holding one agency's anchors, hardened verification, and enveloped signing.

/// xmlsec1 and libxml2 set-up, done once per process (Swift Testing runs suites in parallel).
enum XMLDSigXMLSecLibrary {
    private static let initialization: String? = {
        xmlInitParser()
        guard xmlSecInit() >= 0 else { return "xmlSecInit failed" }
        guard xmlSecCheckVersionExt(XMLSEC_VERSION_MAJOR, XMLSEC_VERSION_MINOR, XMLSEC_VERSION_SUBMINOR,
                                    xmlSecCheckVersionABICompatible) == 1 else {
            return "the loaded xmlsec1 is not ABI-compatible with its headers \(XMLSEC_VERSION)"
        }
        // The xmlSecCrypto* names are macros: call the OpenSSL backend directly (pitfall P4).
        guard xmlSecOpenSSLAppInit(nil) >= 0 else { return "xmlSecOpenSSLAppInit failed" }
        guard xmlSecOpenSSLInit() >= 0 else { return "xmlSecOpenSSLInit failed" }
        // Not variadic, so a Swift function works (P6). Replaces the default stderr printer: errors go
        // to the calling thread's log, or nowhere when no XMLDSig call is capturing.
        xmlSecErrorsSetCallback { _, _, function, errorObject, errorSubject, reason, message in
            guard let log = XMLDSigXMLSecErrorLog.current else { return }
            log.entries.append(.init(
                function: function.map { String(cString: $0) } ?? "",
                object: errorObject.map { String(cString: $0) } ?? "",
                subject: errorSubject.map { String(cString: $0) } ?? "",
                reason: reason,
                message: message.map { String(cString: $0) } ?? ""))
        }
        return nil
    }()

    /// Initializes on first use; throws if the libraries cannot be set up.
    static func ensureInitialized() throws(XMLDSigError) {
        if let failure = initialization {
            throw XMLDSigError(code: "xmldsig.library", message: failure)
        }
    }
}

/// The pthread key of the per-thread xmlsec error log (the xmlsec callback is process-global).
private let xmlDSigErrorLogKey: pthread_key_t = {
    var key = pthread_key_t()
    let status = pthread_key_create(&key, nil)
    precondition(status == 0, "pthread_key_create failed: \(status)")
    return key
}()

/// xmlsec and libxml2 errors raised on this thread during one XMLDSig call.
final class XMLDSigXMLSecErrorLog {
    struct Entry {
        var function: String
        var object: String
        var subject: String
        var reason: Int32
        var message: String
    }

    var entries: [Entry] = []

    /// The log capturing on this thread, if any.
    static var current: XMLDSigXMLSecErrorLog? {
        guard let raw = pthread_getspecific(xmlDSigErrorLogKey) else { return nil }
        return Unmanaged<XMLDSigXMLSecErrorLog>.fromOpaque(raw).takeUnretainedValue()
    }

    /// Runs `body` with errors of this thread captured into a fresh log.
    static func capture<T>(_ body: () throws(XMLDSigError) -> T) throws(XMLDSigError) -> (T, XMLDSigXMLSecErrorLog) {
        let log = XMLDSigXMLSecErrorLog()
        let previous = pthread_getspecific(xmlDSigErrorLogKey)
        pthread_setspecific(xmlDSigErrorLogKey, Unmanaged.passUnretained(log).toOpaque())
        // libxml2's structured handler is per thread too: c14n and XPath errors inside xmlsec land here.
        // The thread's previous handler is put back afterwards (the xmlStructuredError* names are macros
        // over these per-thread accessors).
        let previousHandler = __xmlStructuredError()?.pointee
        let previousContext = __xmlStructuredErrorContext()?.pointee
        xmlSetStructuredErrorFunc(nil) { _, error in
            guard let log = XMLDSigXMLSecErrorLog.current, let error else { return }
            let message = error.pointee.message.map { String(cString: $0) } ?? ""
            log.entries.append(.init(function: "libxml2", object: "", subject: "", reason: 0,
                                     message: message.trimmingCharacters(in: .whitespacesAndNewlines)))
        }
        defer {
            xmlSetStructuredErrorFunc(previousContext ?? nil, previousHandler ?? nil)
            pthread_setspecific(xmlDSigErrorLogKey, previous)
        }
        let result = try body()
        return (result, log)
    }

    /// True when an entry carries one of these XMLSEC_ERRORS_R_* reasons.
    func contains(anyOf reasons: [Int32]) -> Bool {
        entries.contains { reasons.contains($0.reason) }
    }

    /// The innermost, most specific entries first, in one line for operators.
    var summary: String {
        let useful = entries.filter { !$0.message.isEmpty || !$0.subject.isEmpty }
        return useful.prefix(4).map { entry in
            var text = entry.function
            if !entry.subject.isEmpty && entry.subject != "unknown" { text += " (\(entry.subject))" }
            if !entry.message.isEmpty { text += ": \(entry.message)" }
            return text
        }.joined(separator: "; ")
    }
}

/// Algorithm URIs to xmlsec transform ids, for the allow-lists.
private enum XMLDSigXMLSecIDs {
    static func signature(_ algorithm: XMLDSigSignatureAlgorithm) -> xmlSecTransformId? {
        switch algorithm {
        case .rsaSHA256: return swg_xmlSecTransformRsaSha256Id()
        case .rsaSHA384: return swg_xmlSecTransformRsaSha384Id()
        case .rsaSHA512: return swg_xmlSecTransformRsaSha512Id()
        case .ecdsaSHA256: return swg_xmlSecTransformEcdsaSha256Id()
        case .ecdsaSHA384: return swg_xmlSecTransformEcdsaSha384Id()
        case .ecdsaSHA512: return swg_xmlSecTransformEcdsaSha512Id()
        }
    }

    static func digest(_ algorithm: XMLDSigDigestAlgorithm) -> xmlSecTransformId? {
        switch algorithm {
        case .sha256: return swg_xmlSecTransformSha256Id()
        case .sha384: return swg_xmlSecTransformSha384Id()
        case .sha512: return swg_xmlSecTransformSha512Id()
        }
    }

    static var canonicalizations: [xmlSecTransformId?] {
        [swg_xmlSecTransformInclC14NId(), swg_xmlSecTransformInclC14NWithCommentsId(),
         swg_xmlSecTransformExclC14NId(), swg_xmlSecTransformExclC14NWithCommentsId()]
    }
}

/// What xmlsec concluded about one signature.
struct XMLDSigXMLSecOutcome {
    enum Status {
        /// xmlSecDSigCtxVerify returned 0 and the status is Succeeded.
        case succeeded
        /// The digest or signature value does not match.
        case invalid
        /// xmlSecDSigCtxVerify failed (< 0) before reaching a verdict.
        case error
    }

    var status: Status
    /// DER of the certificate whose key verified the signature (xmlsec's key certificate).
    var keyCertificateDER: [UInt8]?
    /// SignedInfo references xmlsec processed, and how many matched their digest.
    var referenceCount: Int
    var referencesSucceeded: Int
    var log: XMLDSigXMLSecErrorLog
}

/// An xmlsec keys manager holding one agency's CA certificates (trusted) and CRLs.
final class XMLDSigKeysManager: @unchecked Sendable {
    private let handle: xmlSecKeysMngrPtr
    /// xmlsec does not document its keys manager as safe for concurrent use: one verification at a time.
    private let lock = NIOLock()

    /// Loads each anchor as trusted (never the system store) and adopts each CRL.
    init(anchors: [XMLDSigX509], crls: [XMLDSigCRL], agency: String) throws(XMLDSigError) {
        try XMLDSigXMLSecLibrary.ensureInitialized()
        let (manager, log): (xmlSecKeysMngrPtr?, XMLDSigXMLSecErrorLog) = try XMLDSigXMLSecErrorLog.capture {
            () throws(XMLDSigError) -> xmlSecKeysMngrPtr? in
            guard let manager = xmlSecKeysMngrCreate() else { return nil }
            guard xmlSecOpenSSLAppDefaultKeysMngrInit(manager) >= 0 else {
                xmlSecKeysMngrDestroy(manager)
                return nil
            }
            for anchor in anchors {
                let der = anchor.der
                let loaded = der.withUnsafeBufferPointer { buffer in
                    xmlSecOpenSSLAppKeysMngrCertLoadMemory(manager, buffer.baseAddress, UInt32(buffer.count),
                                                           xmlSecKeyDataFormatDer,
                                                           xmlSecKeyDataType(xmlSecKeyDataTypeTrusted))
                }
                guard loaded >= 0 else {
                    xmlSecKeysMngrDestroy(manager)
                    throw XMLDSigError(code: "xmldsig.anchors-rejected",
                                       message: "xmlsec refused CA certificate \"\(anchor.subject)\" of agency \(agency)")
                }
            }
            if !crls.isEmpty {
                guard let store = xmlSecKeysMngrGetDataStore(manager, swg_xmlSecOpenSSLX509StoreId()) else {
                    xmlSecKeysMngrDestroy(manager)
                    return nil
                }
                for crl in crls {
                    let retained = crl.retainedHandle()
                    if xmlSecOpenSSLX509StoreAdoptCrl(store, retained) < 0 {
                        X509_CRL_free(retained)
                        xmlSecKeysMngrDestroy(manager)
                        return nil
                    }
                }
            }
            return manager
        }
        guard let manager else {
            throw XMLDSigError(code: "xmldsig.keys-manager",
                               message: "cannot set up the xmlsec keys manager for agency \(agency): \(log.summary)")
        }
        handle = manager
    }

    deinit { xmlSecKeysMngrDestroy(handle) }

    /// Verifies the enveloped signature of `document` with everything outside the policy disabled:
    /// same-document URIs only, the allowed transforms only, X.509 key data only (never KeyValue,
    /// RetrievalMethod, KeyName or EncryptedKey), certificates checked at `time`.
    func verify(_ document: XMLDSigXMLDocument, policy: XMLDSigPolicy, at time: Date) -> XMLDSigXMLSecOutcome {
        lock.withLock {
            let captured = try? XMLDSigXMLSecErrorLog.capture { () throws(XMLDSigError) -> XMLDSigXMLSecOutcome in
                let log = XMLDSigXMLSecErrorLog.current!
                var outcome = XMLDSigXMLSecOutcome(status: .error, keyCertificateDER: nil, referenceCount: 0,
                                                   referencesSucceeded: 0, log: log)
                guard let signature = document.signatureNode, let context = xmlSecDSigCtxCreate(handle) else {
                    return outcome
                }
                defer { xmlSecDSigCtxDestroy(context) }
                configure(context, policy: policy, at: time)
                let result = xmlSecDSigCtxVerify(context, signature)
                if result >= 0 {
                    outcome.status = context.pointee.status == xmlSecDSigStatusSucceeded ? .succeeded : .invalid
                }
                if let key = context.pointee.signKey,
                   let data = xmlSecKeyGetData(key, swg_xmlSecKeyDataX509Id()),
                   let certificate = xmlSecOpenSSLKeyDataX509GetKeyCert(data) {
                    outcome.keyCertificateDER = XMLDSigX509.der(ofBorrowed: certificate)
                }
                // The list is embedded by value in the context: address it by offset, never via a copy.
                let references = (UnsafeMutableRawPointer(context)
                    + MemoryLayout<xmlSecDSigCtx>.offset(of: \xmlSecDSigCtx.signedInfoReferences)!)
                    .assumingMemoryBound(to: xmlSecPtrList.self)
                outcome.referenceCount = Int(xmlSecPtrListGetSize(references))
                for index in 0..<outcome.referenceCount {
                    guard let raw = xmlSecPtrListGetItem(references, UInt32(index)) else { continue }
                    let reference = raw.assumingMemoryBound(to: xmlSecDSigReferenceCtx.self)
                    if reference.pointee.status == xmlSecDSigStatusSucceeded { outcome.referencesSucceeded += 1 }
                }
                return outcome
            }
            return captured?.0 ?? XMLDSigXMLSecOutcome(status: .error, keyCertificateDER: nil, referenceCount: 0,
                                                       referencesSucceeded: 0, log: XMLDSigXMLSecErrorLog())
        }
    }

    private func configure(_ context: xmlSecDSigCtxPtr, policy: XMLDSigPolicy, at time: Date) {
        // Manifests are never trusted; the one SignedInfo reference is kept for the post-checks.
        context.pointee.flags |= UInt32(XMLSEC_DSIG_FLAGS_IGNORE_MANIFESTS | XMLSEC_DSIG_FLAGS_STORE_SIGNEDINFO_REFERENCES)
        context.pointee.enabledReferenceUris =
            xmlSecTransformUriType(xmlSecTransformUriTypeEmpty | xmlSecTransformUriTypeSameDocument)
        // SignedInfo level: canonicalization and signature method. A non-empty list means "only these".
        for id in XMLDSigXMLSecIDs.canonicalizations + policy.signatureAlgorithms.map(XMLDSigXMLSecIDs.signature) {
            if let id { _ = xmlSecDSigCtxEnableSignatureTransform(context, id) }
        }
        // Reference level: enveloped-signature, canonicalization, digest.
        let referenceIDs = [swg_xmlSecTransformEnvelopedId()] + XMLDSigXMLSecIDs.canonicalizations
            + policy.digestAlgorithms.map(XMLDSigXMLSecIDs.digest)
        for id in referenceIDs {
            if let id { _ = xmlSecDSigCtxEnableReferenceTransform(context, id) }
        }
        // X.509 only: closes the KeyValue hole (pitfall X1).
        _ = swg_xmlSecDSigCtxEnableKeyData(context, swg_xmlSecKeyDataX509Id())
        context.pointee.keyInfoReadCtx.flags |= UInt32(XMLSEC_KEYINFO_FLAGS_X509DATA_STOP_ON_INVALID_CERT)
        context.pointee.keyInfoReadCtx.certsVerificationTime = time_t(time.timeIntervalSince1970.rounded(.down))
    }
}

/// The gateway's signing key with its certificate(s), loaded into xmlsec (xmlSecKeyDestroy in deinit).
final class XMLDSigXMLSecSigningKey: @unchecked Sendable {
    private let handle: xmlSecKeyPtr
    private let kind: XMLDSigKeyKind
    private let lock = NIOLock()

    /// Loads an unencrypted PEM key (never prompting) and attaches the certificates (leaf first).
    init(keyPEM: [UInt8], kind: XMLDSigKeyKind, certificates: [XMLDSigX509], path: String) throws(XMLDSigError) {
        try XMLDSigXMLSecLibrary.ensureInitialized()
        self.kind = kind
        let (key, log) = try XMLDSigXMLSecErrorLog.capture { () throws(XMLDSigError) -> xmlSecKeyPtr? in
            // xmlsec takes the pem_password_cb as void*; pem_password_cb is a C function *type*, so Swift
            // imports it as a thick Swift function: spell out the C pointer type.
            let callback: @convention(c) (UnsafeMutablePointer<CChar>?, Int32, Int32, UnsafeMutableRawPointer?) -> Int32
                = xmlDSigRefusePassword
            let refuse = unsafeBitCast(callback, to: UnsafeMutableRawPointer.self)
            let key = keyPEM.withUnsafeBufferPointer { buffer in
                xmlSecOpenSSLAppKeyLoadMemory(buffer.baseAddress, UInt32(buffer.count), xmlSecKeyDataFormatPem,
                                              nil, refuse, nil)
            }
            guard let key else { return nil }
            for certificate in certificates {
                let der = certificate.der
                let loaded = der.withUnsafeBufferPointer { buffer in
                    xmlSecOpenSSLAppKeyCertLoadMemory(key, buffer.baseAddress, UInt32(buffer.count),
                                                      xmlSecKeyDataFormatCertDer)
                }
                guard loaded >= 0 else {
                    xmlSecKeyDestroy(key)
                    return nil
                }
            }
            return key
        }
        ERR_clear_error()
        guard let key else {
            throw XMLDSigError(code: "xmldsig.key-invalid", path: path,
                               message: "xmlsec cannot load the key with its certificate: \(log.summary)")
        }
        handle = key
    }

    deinit { xmlSecKeyDestroy(handle) }

    /// Appends an enveloped signature to the document element: exc-c14n, rsa-sha256 or ecdsa-sha256,
    /// one reference URI="" with enveloped-signature + exc-c14n and SHA-256, X509Data with the certificates.
    func sign(_ document: XMLDSigXMLDocument) throws(XMLDSigError) {
        let captured = lock.withLock {
            try? XMLDSigXMLSecErrorLog.capture { () throws(XMLDSigError) -> Bool in
                guard let root = document.root else { return false }
                let method = kind == .rsa ? swg_xmlSecTransformRsaSha256Id() : swg_xmlSecTransformEcdsaSha256Id()
                guard let signature = xmlSecTmplSignatureCreate(document.handle, swg_xmlSecTransformExclC14NId(),
                                                                method, nil) else { return false }
                guard xmlAddChild(root, signature) != nil else {
                    xmlFreeNode(signature)
                    return false
                }
                guard let reference = xmlSecTmplSignatureAddReference(signature, swg_xmlSecTransformSha256Id(),
                                                                      nil, "", nil),
                      xmlSecTmplReferenceAddTransform(reference, swg_xmlSecTransformEnvelopedId()) != nil,
                      xmlSecTmplReferenceAddTransform(reference, swg_xmlSecTransformExclC14NId()) != nil,
                      let keyInfo = xmlSecTmplSignatureEnsureKeyInfo(signature, nil),
                      let x509Data = xmlSecTmplKeyInfoAddX509Data(keyInfo),
                      xmlSecTmplX509DataAddCertificate(x509Data) != nil,
                      let context = xmlSecDSigCtxCreate(nil) else { return false }
                defer { xmlSecDSigCtxDestroy(context) }
                context.pointee.signKey = xmlSecKeyDuplicate(handle)  // the context destroys its copy
                guard context.pointee.signKey != nil else { return false }
                return xmlSecDSigCtxSign(context, signature) >= 0
            }
        }
        ERR_clear_error()
        guard let captured, captured.0 else {
            throw XMLDSigError(code: "xmldsig.sign-failed",
                               message: "xmlsec could not sign: \(captured?.1.summary ?? "capture failed")")
        }
    }
}
