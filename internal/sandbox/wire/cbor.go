package wire

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/aws/smithy-go/encoding/cbor"
)

// The CBOR codec is smithy-go's own (already a dependency of every SDK
// client): it encodes exactly the subset RPC v2 CBOR uses.

var timestampType = reflect.TypeOf(Timestamp{})

// MarshalCBOR encodes v for RPC v2 CBOR: structs by their json tags (honouring
// omitempty), Timestamp as tag 1 epoch seconds, maps with string keys, slices.
func MarshalCBOR(v any) ([]byte, error) {
	cv, err := toCBOR(reflect.ValueOf(v))
	if err != nil {
		return nil, err
	}
	if cv == nil {
		cv = cbor.Map{}
	}
	return cbor.Encode(cv), nil
}

func toCBOR(v reflect.Value) (cbor.Value, error) {
	if !v.IsValid() {
		return nil, nil
	}
	if v.Type() == timestampType {
		t := v.Interface().(Timestamp)
		return &cbor.Tag{ID: 1, Value: cbor.Float64(float64(t.UnixMilli()) / 1000)}, nil
	}
	if t, ok := v.Interface().(time.Time); ok {
		return &cbor.Tag{ID: 1, Value: cbor.Float64(float64(t.UnixMilli()) / 1000)}, nil
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil, nil
		}
		return toCBOR(v.Elem())
	case reflect.String:
		return cbor.String(v.String()), nil
	case reflect.Bool:
		return cbor.Bool(v.Bool()), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n := v.Int()
		if n < 0 {
			return cbor.NegInt(uint64(-n)), nil
		}
		return cbor.Uint(uint64(n)), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return cbor.Uint(v.Uint()), nil
	case reflect.Float32, reflect.Float64:
		f := v.Float()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("cannot encode %v", f)
		}
		return cbor.Float64(f), nil
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.IsNil() {
			return nil, nil
		}
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return cbor.Slice(v.Bytes()), nil
		}
		l := make(cbor.List, 0, v.Len())
		for i := 0; i < v.Len(); i++ {
			e, err := toCBOR(v.Index(i))
			if err != nil {
				return nil, err
			}
			if e == nil {
				e = &cbor.Nil{}
			}
			l = append(l, e)
		}
		return l, nil
	case reflect.Map:
		if v.IsNil() {
			return nil, nil
		}
		m := cbor.Map{}
		iter := v.MapRange()
		for iter.Next() {
			e, err := toCBOR(iter.Value())
			if err != nil {
				return nil, err
			}
			if e != nil {
				m[fmt.Sprint(iter.Key().Interface())] = e
			}
		}
		return m, nil
	case reflect.Struct:
		m := cbor.Map{}
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" {
				continue
			}
			if name == "" {
				name = f.Name
			}
			fv := v.Field(i)
			if strings.Contains(opts, "omitempty") && fv.IsZero() {
				continue
			}
			e, err := toCBOR(fv)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			if e != nil {
				m[name] = e
			}
		}
		return m, nil
	}
	return nil, fmt.Errorf("cannot encode %s as CBOR", v.Type())
}

// CBORToJSON converts an RPC v2 CBOR body to JSON so request decoding is
// shared with the JSON protocols. Tag 1 timestamps become epoch seconds.
func CBORToJSON(b []byte) ([]byte, error) {
	if len(b) == 0 {
		return nil, nil
	}
	v, err := cbor.Decode(b)
	if err != nil {
		return nil, err
	}
	g, err := fromCBOR(v, 0)
	if err != nil {
		return nil, err
	}
	return json.Marshal(g)
}

func fromCBOR(v cbor.Value, depth int) (any, error) {
	if depth > 64 {
		return nil, fmt.Errorf("CBOR nested too deeply")
	}
	switch x := v.(type) {
	case cbor.Uint:
		return uint64(x), nil
	case cbor.NegInt:
		if x == 0 {
			return nil, fmt.Errorf("CBOR integer out of range")
		}
		return -int64(x), nil
	case cbor.Slice:
		return []byte(x), nil
	case cbor.String:
		return string(x), nil
	case cbor.Bool:
		return bool(x), nil
	case *cbor.Nil, *cbor.Undefined:
		return nil, nil
	case cbor.Float32:
		return float64(x), nil
	case cbor.Float64:
		return float64(x), nil
	case cbor.List:
		out := make([]any, 0, len(x))
		for _, e := range x {
			g, err := fromCBOR(e, depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, g)
		}
		return out, nil
	case cbor.Map:
		out := make(map[string]any, len(x))
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			g, err := fromCBOR(x[k], depth+1)
			if err != nil {
				return nil, err
			}
			out[k] = g
		}
		return out, nil
	case *cbor.Tag:
		if x.ID == 1 {
			return fromCBOR(x.Value, depth+1)
		}
		return nil, fmt.Errorf("unsupported CBOR tag %d", x.ID)
	}
	return nil, fmt.Errorf("unsupported CBOR value %T", v)
}
