// Package wire speaks the AWS wire protocols the sandbox emulator serves:
// EC2 query, AWS query (ELBv2, STS, CloudWatch for older clients), AWS JSON 1.0
// and 1.1 (Service Quotas), REST-JSON (EKS) and Smithy RPC v2 CBOR (CloudWatch
// for current SDKs). It knows nothing of the emulated world: services decode
// their input with its helpers, return a response value or an *APIError, and
// the protocol writes the bytes a real AWS endpoint would write.
//
// Protocol references:
//   - EC2 query: https://smithy.io/2.0/aws/protocols/aws-ec2-query-protocol.html
//   - AWS query: https://smithy.io/2.0/aws/protocols/aws-query-protocol.html
//   - AWS JSON 1.1: https://smithy.io/2.0/aws/protocols/aws-json-1_1-protocol.html
//   - REST-JSON: https://smithy.io/2.0/aws/protocols/aws-restjson1-protocol.html
//   - RPC v2 CBOR: https://smithy.io/2.0/additional-specs/protocols/smithy-rpc-v2.html
package wire
