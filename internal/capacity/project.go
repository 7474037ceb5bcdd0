package capacity

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"html"
	"io"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// EC2's Describe calls have no field selection: a page of 1,000 network
// interfaces or instances is megabytes of XML, and decoding it into the
// SDK's types costs about as much CPU as 100 ms of latency, for the five
// elements the check reads. The projector is a deserialize middleware that
// sits between the SDK's decoder and the transport: it scans a successful
// response's body for those elements itself and hands the decoder a
// document holding only nextToken, so the SDK keeps doing signing, retries,
// error decoding and pagination. (Error responses pass through untouched.)

// xmlVisitor receives a scan's events. path is the stack of element names
// from the document's root element down to the current one; it and text
// are valid during the call only. open returns true to skip the element:
// the scanner then jumps past its end tag without looking inside (so a
// skipped element must not contain an element of its own name) and calls
// neither text nor close for it.
type xmlVisitor interface {
	open(path [][]byte) (skip bool)
	text(path [][]byte, text []byte)
	close(path [][]byte)
}

// projector is the middleware; visit is called once per successful
// response and must read its body to the end.
type projector struct {
	op    string
	visit func(body io.Reader) (nextToken string, err error)
}

// ID implements middleware.DeserializeMiddleware.
func (p *projector) ID() string { return "eksbg.capacity.projector" }

// HandleDeserialize implements middleware.DeserializeMiddleware.
func (p *projector) HandleDeserialize(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (
	middleware.DeserializeOutput, middleware.Metadata, error) {
	out, md, err := next.HandleDeserialize(ctx, in)
	if err != nil {
		return out, md, err
	}
	resp, ok := out.RawResponse.(*smithyhttp.Response)
	if !ok || resp.StatusCode < 200 || resp.StatusCode >= 300 {
		return out, md, err
	}
	token, err := p.visit(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		return out, md, fmt.Errorf("reading the %s response: %w", p.op, err)
	}
	doc := "<" + p.op + "Response></" + p.op + "Response>"
	if token != "" {
		doc = "<" + p.op + "Response><nextToken>" + html.EscapeString(token) + "</nextToken></" + p.op + "Response>"
	}
	resp.Body = io.NopCloser(strings.NewReader(doc))
	return out, md, nil
}

// project is the per-call option that installs a projector.
func project(op string, visit func(io.Reader) (string, error)) func(*ec2.Options) {
	return func(o *ec2.Options) {
		o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
			return st.Deserialize.Add(&projector{op: op, visit: visit}, middleware.After)
		})
	}
}

// scanBuffer is the scanner's read buffer: responses are streamed through
// it, never held whole.
const scanBuffer = 64 << 10

// scanXML streams an XML document to v: elements, the text of elements
// without children, self-closing elements, attributes (skipped), the XML
// declaration, comments and other <! markup (skipped): what EC2's query API
// returns, which has no CDATA. Text is passed with entities and character
// references decoded.
func scanXML(r io.Reader, v xmlVisitor) error {
	br := bufio.NewReaderSize(r, scanBuffer)
	var (
		names     [][]byte // names[:depth] is the path; each level keeps its buffer
		depth     int
		text, tag []byte
		leaf      bool // no child element since the innermost one opened
	)
	for {
		var err error
		text, err = readUntil(br, '<', text[:0])
		if err == io.EOF {
			if depth > 0 {
				return fmt.Errorf("truncated XML: <%s> is not closed", names[depth-1])
			}
			return nil
		}
		if err != nil {
			return err
		}
		text = text[:len(text)-1]
		if tag, err = readUntil(br, '>', tag[:0]); err != nil {
			return fmt.Errorf("truncated XML: %w", err)
		}
		tag = tag[:len(tag)-1]
		if len(tag) == 0 {
			return fmt.Errorf("malformed XML: empty tag")
		}
		switch tag[0] {
		case '?':
		case '!':
			for bytes.HasPrefix(tag, []byte("!--")) && (len(tag) < 5 || !bytes.HasSuffix(tag, []byte("--"))) {
				tag = append(tag, '>') // a '>' inside the comment
				if tag, err = readUntil(br, '>', tag); err != nil {
					return fmt.Errorf("truncated XML comment: %w", err)
				}
				tag = tag[:len(tag)-1]
			}
		case '/':
			name := bytes.TrimSpace(tag[1:])
			if depth == 0 || !bytes.Equal(name, names[depth-1]) {
				return fmt.Errorf("malformed XML: </%s> does not close an open element", name)
			}
			if leaf && len(text) > 0 {
				v.text(names[:depth], unescape(text))
			}
			v.close(names[:depth])
			depth--
			leaf = false
		default:
			selfClosing := tag[len(tag)-1] == '/'
			if selfClosing {
				tag = tag[:len(tag)-1]
			}
			name := tag
			for j, c := range tag {
				if c == ' ' || c == '\t' || c == '\r' || c == '\n' {
					name = tag[:j]
					break
				}
			}
			if depth == len(names) {
				names = append(names, nil)
			}
			names[depth] = append(names[depth][:0], name...)
			depth++
			skip := v.open(names[:depth])
			leaf = !selfClosing
			switch {
			case skip && !selfClosing:
				if err := skipPast(br, names[depth-1]); err != nil {
					return err
				}
				depth--
				leaf = false
			case skip:
				depth--
			case selfClosing:
				v.close(names[:depth])
				depth--
			}
		}
	}
}

// skipPast reads past the end tag </name>.
func skipPast(br *bufio.Reader, name []byte) error {
	for {
		if _, err := br.ReadSlice('<'); err != nil && err != bufio.ErrBufferFull {
			return fmt.Errorf("truncated XML: <%s> is not closed", name)
		}
		next, err := br.Peek(len(name) + 2)
		if err != nil || next[0] != '/' || !bytes.Equal(next[1:len(name)+1], name) {
			continue
		}
		switch next[len(name)+1] {
		case '>':
			_, err = br.Discard(len(name) + 2)
			return err
		case ' ', '\t', '\r', '\n':
			_, err = br.ReadSlice('>')
			return err
		}
	}
}

// readUntil appends to buf the bytes up to and including delim.
func readUntil(br *bufio.Reader, delim byte, buf []byte) ([]byte, error) {
	for {
		chunk, err := br.ReadSlice(delim)
		buf = append(buf, chunk...)
		if err != bufio.ErrBufferFull {
			return buf, err
		}
	}
}

// unescape decodes entities and character references.
func unescape(t []byte) []byte {
	if bytes.IndexByte(t, '&') < 0 {
		return t
	}
	return []byte(html.UnescapeString(string(t)))
}

// at reports whether path is exactly names.
func at(path [][]byte, names ...string) bool {
	if len(path) != len(names) {
		return false
	}
	for i, n := range names {
		if i > 0 && string(path[i]) != n { // path[0] is the root, named after the operation
			return false
		}
	}
	return true
}

// eniVisitor reads a DescribeNetworkInterfaces page: per interface its
// subnet, VPC, private addresses and /28 prefixes.
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_NetworkInterface.html
type eniVisitor struct {
	vpcs  map[string]bool
	out   map[string]*eniAddrs
	count int
	token string

	subnet, vpc   string
	ips, prefixes []uint32
}

func (e *eniVisitor) open(path [][]byte) bool {
	switch {
	case at(path, "", "networkInterfaceSet", "item"):
		e.subnet, e.vpc, e.ips, e.prefixes = "", "", e.ips[:0], e.prefixes[:0]
	case len(path) == 4 && at(path[:3], "", "networkInterfaceSet", "item"):
		switch string(path[3]) {
		case "subnetId", "vpcId", "privateIpAddressesSet", "ipv4PrefixSet":
		default:
			return true // attachment, association, groupSet, tagSet, ...
		}
	}
	return false
}

func (e *eniVisitor) text(path [][]byte, t []byte) {
	switch {
	case at(path, "", "nextToken"):
		e.token = string(t)
	case at(path, "", "networkInterfaceSet", "item", "subnetId"):
		e.subnet = string(t)
	case at(path, "", "networkInterfaceSet", "item", "vpcId"):
		e.vpc = string(t)
	case at(path, "", "networkInterfaceSet", "item", "privateIpAddressesSet", "item", "privateIpAddress"):
		if v, ok := parseU32(t); ok {
			e.ips = append(e.ips, v)
		}
	case at(path, "", "networkInterfaceSet", "item", "ipv4PrefixSet", "item", "ipv4Prefix"):
		if v, ok := parseU32(t); ok {
			e.prefixes = append(e.prefixes, v)
		}
	}
}

func (e *eniVisitor) close(path [][]byte) {
	if !at(path, "", "networkInterfaceSet", "item") {
		return
	}
	e.count++
	if !e.vpcs[e.vpc] {
		return
	}
	a := e.out[e.subnet]
	if a == nil {
		a = &eniAddrs{}
		e.out[e.subnet] = a
	}
	a.ips = append(a.ips, e.ips...)
	a.prefixes = append(a.prefixes, e.prefixes...)
}

// instanceVisitor reads a DescribeInstances page: per instance its type
// and whether it is a spot instance.
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_Instance.html
type instanceVisitor struct {
	counts map[instanceCount]int
	token  string

	typ  string
	spot bool
}

func (v *instanceVisitor) open(path [][]byte) bool {
	switch {
	case at(path, "", "reservationSet", "item", "instancesSet", "item"):
		v.typ, v.spot = "", false
	case len(path) == 4 && at(path[:3], "", "reservationSet", "item"):
		return string(path[3]) != "instancesSet" // groupSet, ownerId, ...
	case len(path) == 6 && at(path[:5], "", "reservationSet", "item", "instancesSet", "item"):
		// networkInterfaceSet, blockDeviceMapping, placement, tagSet, ...
		return string(path[5]) != "instanceType" && string(path[5]) != "instanceLifecycle"
	}
	return false
}

func (v *instanceVisitor) text(path [][]byte, t []byte) {
	switch {
	case at(path, "", "nextToken"):
		v.token = string(t)
	case at(path, "", "reservationSet", "item", "instancesSet", "item", "instanceType"):
		v.typ = string(t)
	case at(path, "", "reservationSet", "item", "instancesSet", "item", "instanceLifecycle"):
		v.spot = string(t) == "spot"
	}
}

func (v *instanceVisitor) close(path [][]byte) {
	if at(path, "", "reservationSet", "item", "instancesSet", "item") {
		v.counts[instanceCount{v.typ, v.spot}]++
	}
}
