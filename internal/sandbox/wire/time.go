package wire

import (
	"encoding/json"
	"encoding/xml"
	"math"
	"strconv"
	"time"
)

// Timestamp is a time on the wire: epoch seconds in JSON and CBOR
// protocols, ISO 8601 in XML ones, as Smithy's default timestamp formats say.
type Timestamp struct{ time.Time }

// TS wraps a time.
func TS(t time.Time) Timestamp { return Timestamp{t} }

// TSPtr wraps a time, nil for the zero time (so omitempty drops it).
func TSPtr(t time.Time) *Timestamp {
	if t.IsZero() {
		return nil
	}
	return &Timestamp{t}
}

// MarshalJSON writes epoch seconds with millisecond precision.
func (t Timestamp) MarshalJSON() ([]byte, error) {
	return []byte(strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', -1, 64)), nil
}

// UnmarshalJSON accepts epoch seconds or an RFC 3339 string.
func (t *Timestamp) UnmarshalJSON(b []byte) error {
	var f float64
	if err := json.Unmarshal(b, &f); err == nil {
		sec, frac := math.Modf(f)
		t.Time = time.Unix(int64(sec), int64(frac*1e9)).UTC()
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	p, err := ParseTime(s)
	if err != nil {
		return err
	}
	t.Time = p
	return nil
}

// MarshalXML writes ISO 8601 with milliseconds, as AWS does.
func (t Timestamp) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	return e.EncodeElement(t.UTC().Format("2006-01-02T15:04:05.000Z"), start)
}

// ParseTime parses the timestamp forms clients send in query parameters:
// ISO 8601 / RFC 3339 with or without fractional seconds, or epoch seconds.
func ParseTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05Z0700", "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return time.Time{}, err
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC(), nil
}
