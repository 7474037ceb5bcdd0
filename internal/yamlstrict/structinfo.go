package yamlstrict

import (
	"reflect"
	"strings"
	"sync"
)

// structInfo describes the YAML fields of a struct type.
type structInfo struct {
	names     []string // in declaration order, for messages
	byName    map[string]fieldInfo
	inlineMap reflect.Type // value type of an ",inline" map, if any
}

type fieldInfo struct {
	typ reflect.Type
}

var structInfos sync.Map // reflect.Type -> *structInfo

// structInfoOf collects the fields of struct type t the way yaml.v3 sees
// them: exported fields named by their `yaml` tag (or their lower-cased
// Go name), "-" skipped, ",inline" structs and maps flattened.
func structInfoOf(t reflect.Type) *structInfo {
	if si, ok := structInfos.Load(t); ok {
		return si.(*structInfo)
	}
	si := &structInfo{byName: map[string]fieldInfo{}}
	si.collect(t, map[reflect.Type]bool{})
	structInfos.Store(t, si)
	return si
}

func (si *structInfo) collect(t reflect.Type, visiting map[reflect.Type]bool) {
	if visiting[t] {
		return
	}
	visiting[t] = true
	defer delete(visiting, t)
	for i := range t.NumField() {
		f := t.Field(i)
		if f.PkgPath != "" && !f.Anonymous {
			continue
		}
		tag := f.Tag.Get("yaml")
		if tag == "" && !strings.Contains(string(f.Tag), ":") {
			tag = string(f.Tag)
		}
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if hasOpt(opts, "inline") {
			switch f.Type.Kind() {
			case reflect.Struct:
				si.collect(f.Type, visiting)
			case reflect.Map:
				si.inlineMap = f.Type.Elem()
			}
			continue
		}
		if f.PkgPath != "" {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		if _, dup := si.byName[name]; dup {
			continue
		}
		si.names = append(si.names, name)
		si.byName[name] = fieldInfo{typ: f.Type}
	}
}

func hasOpt(opts, want string) bool {
	for o := range strings.SplitSeq(opts, ",") {
		if o == want {
			return true
		}
	}
	return false
}
