package emulator

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// ec2XML appends EC2-query XML to a byte slice. DescribeNetworkInterfaces
// on a large world answers with tens of megabytes, which encoding/xml's
// reflection writes at about 100 MB/s and with one allocation per element;
// writing the elements by hand is several times faster and allocates only
// the growing buffer. The bytes reach the response through a field tagged
// `xml:",innerxml"`.
type ec2XML struct{ b []byte }

func (x *ec2XML) open(name string) {
	x.b = append(x.b, '<')
	x.b = append(x.b, name...)
	x.b = append(x.b, '>')
}

func (x *ec2XML) close(name string) {
	x.b = append(x.b, '<', '/')
	x.b = append(x.b, name...)
	x.b = append(x.b, '>')
}

// str writes <name>value</name>, escaping value as encoding/xml does.
func (x *ec2XML) str(name, value string) {
	x.open(name)
	x.escape(value)
	x.close(name)
}

func (x *ec2XML) int(name string, v int) {
	x.open(name)
	x.b = strconv.AppendInt(x.b, int64(v), 10)
	x.close(name)
}

func (x *ec2XML) bool(name string, v bool) {
	x.open(name)
	x.b = strconv.AppendBool(x.b, v)
	x.close(name)
}

// time writes an ISO 8601 timestamp with milliseconds, as wire.Timestamp does.
func (x *ec2XML) time(name string, t time.Time) {
	x.open(name)
	x.b = t.UTC().AppendFormat(x.b, "2006-01-02T15:04:05.000Z")
	x.close(name)
}

// empty writes an empty list element, <name></name>.
func (x *ec2XML) empty(name string) {
	x.open(name)
	x.close(name)
}

// escape writes s as XML character data: the five special characters as
// entities, control characters as character references, and invalid
// UTF-8 as U+FFFD, which is what encoding/xml.EscapeText writes.
func (x *ec2XML) escape(s string) {
	last := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < utf8.RuneSelf && c != '&' && c != '<' && c != '>' && c != '"' && c != '\'' {
			i++
			continue
		}
		r, width := utf8.DecodeRuneInString(s[i:])
		var esc string
		switch {
		case r == '&':
			esc = "&amp;"
		case r == '<':
			esc = "&lt;"
		case r == '>':
			esc = "&gt;"
		case r == '"':
			esc = "&#34;"
		case r == '\'':
			esc = "&#39;"
		case r == '\t':
			esc = "&#x9;"
		case r == '\n':
			esc = "&#xA;"
		case r == '\r':
			esc = "&#xD;"
		case r == utf8.RuneError && width == 1, !ec2XMLChar(r):
			esc = "\uFFFD"
		default:
			i += width
			continue
		}
		x.b = append(x.b, s[last:i]...)
		x.b = append(x.b, esc...)
		i += width
		last = i
	}
	x.b = append(x.b, s[last:]...)
}

// ec2XMLChar reports whether r may appear in an XML document.
// https://www.w3.org/TR/xml/#charsets
func ec2XMLChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF
}

// ec2RawXML carries pre-rendered elements into an encoding/xml response.
type ec2RawXML struct {
	Inner []byte `xml:",innerxml"`
}
