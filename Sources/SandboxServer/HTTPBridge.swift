import FHIRCore
import FHIRInteractions
import HTTPTypes
import Hummingbird
import NIOCore

extension Response {
    /// A Hummingbird response from a FHIR response.
    init(_ fhir: FHIRResponse) {
        var fields = HTTPFields()
        fields.reserveCapacity(fhir.headers.count + 2)
        for header in fhir.headers {
            if let name = Self.fieldName(header.name) { fields.append(HTTPField(name: name, value: header.value)) }
        }
        self.init(
            status: HTTPResponse.Status(code: fhir.status), headers: fields,
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: fhir.body)))
    }

    /// Header names the FHIR layer uses, without re-validating them on every response.
    static func fieldName(_ name: String) -> HTTPField.Name? {
        switch name {
        case "Content-Type": return .contentType
        case "ETag": return .eTag
        case "Last-Modified": return .lastModified
        case "Location": return .location
        default: return HTTPField.Name(name)
        }
    }

    /// A JSON response from a `JSON` value (admin and index routes).
    static func json(_ status: HTTPResponse.Status, _ value: JSON) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: JSONWriter(pretty: true).bytes(value))))
    }
}

extension HTTPField.Name {
    static let prefer = HTTPField.Name("Prefer")!
    static let ifNoneExist = HTTPField.Name("If-None-Exist")!
}

extension Request {
    /// Path segments after `prefix`, percent-decoded.
    func segments(after prefix: String) -> [String] {
        let path = uri.path
        let rest = path.count > prefix.count ? path.dropFirst(prefix.count) : ""
        return rest.split(separator: "/").map { segment in
            segment.contains("%") || segment.contains("+") ? QueryString.decode(segment.replacingPlus()) : String(segment)
        }
    }

    /// The scheme and authority clients used to reach us, for absolute links: the public URL,
    /// the request's `Host` when it is an allowed name, else the bound address.
    func origin(_ hosts: HostPolicy) -> String { hosts.origin(authority: head.authority) }
}

extension Substring {
    /// In a path, `+` is a literal plus: protect it from form decoding.
    fileprivate func replacingPlus() -> String {
        var text = ""
        for character in self { text += character == "+" ? "%2B" : String(character) }
        return text
    }
}
