package emulator

import (
	"bytes"
	"strconv"
	"testing"
	"time"
)

// TestVerifyChunksTrailer checks the chunk and trailer signature chain
// against the vector of AWS's Common Runtime signer (awslabs
// aws-crt-swift Test/AwsCommonRuntimeKitTests/auth/ChunkSignerTests.swift):
// AWS's streaming example, followed by the trailers first, second and third.
func TestVerifyChunksTrailer(t *testing.T) {
	v := &sigv4{accessKeyID: "AKIAIOSFODNN7EXAMPLE", scopeDate: "20130524", region: "us-east-1", service: "s3",
		amzDate: "20130524T000000Z", date: time.Date(2013, 5, 24, 0, 0, 0, 0, time.UTC),
		signature: "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"}
	v.key = v.signingKey("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
	build := func(trailerSig string) []byte {
		var b bytes.Buffer
		for _, c := range []struct {
			size int
			sig  string
		}{
			{65536, "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648"},
			{1024, "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497"},
			{0, "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9"},
		} {
			b.WriteString(strconv.FormatInt(int64(c.size), 16) + ";chunk-signature=" + c.sig + "\r\n")
			b.Write(bytes.Repeat([]byte("a"), c.size))
			if c.size > 0 {
				b.WriteString("\r\n")
			}
		}
		// Sent out of order: the signature covers them sorted.
		b.WriteString("second:2nd\r\nfirst:1st\r\nthird:3rd\r\nx-amz-trailer-signature:" + trailerSig + "\r\n\r\n")
		return b.Bytes()
	}
	good := "df5735bd9f3295cd9386572292562fefc93ba94e80a0a1ddcbd652c4e0a75e6c"
	body, err := decodeAWSChunked(build(good))
	if err != nil {
		t.Fatal(err)
	}
	if got := len(body.data()); got != 66560 || body.trailers.Get("second") != "2nd" {
		t.Fatalf("decoded %d bytes, trailers %v", got, body.trailers)
	}
	if err := v.verifyChunks(body, true); err != nil {
		t.Fatalf("the CRT's vector: %v", err)
	}
	bad, err := decodeAWSChunked(build("0" + good[1:]))
	if err != nil {
		t.Fatal(err)
	}
	if err := v.verifyChunks(bad, true); err == nil {
		t.Fatal("a wrong trailer signature passed")
	}
}
