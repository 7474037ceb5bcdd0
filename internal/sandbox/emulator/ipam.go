package emulator

import (
	"fmt"
	"math/bits"
	"net/netip"
)

// ipam tracks which addresses of one subnet are taken. AWS reserves the
// first four addresses and the last one of every subnet:
// https://docs.aws.amazon.com/vpc/latest/userguide/subnet-sizing.html
type ipam struct {
	base netip.Addr
	size int
	used []uint64 // bit per address, reserved ones included
	n    int      // addresses held by ENIs (not counting the 5 reserved)
}

func newIPAM(cidr string) (*ipam, error) {
	p, err := netip.ParsePrefix(cidr)
	if err != nil || !p.Addr().Is4() {
		return nil, fmt.Errorf("subnet CIDR %q is not an IPv4 prefix", cidr)
	}
	size := 1 << (32 - p.Bits())
	m := &ipam{base: p.Masked().Addr(), size: size, used: make([]uint64, (size+63)/64)}
	for _, i := range []int{0, 1, 2, 3, size - 1} {
		m.set(i)
	}
	return m, nil
}

func (m *ipam) set(i int)        { m.used[i/64] |= 1 << (i % 64) }
func (m *ipam) clear(i int)      { m.used[i/64] &^= 1 << (i % 64) }
func (m *ipam) isSet(i int) bool { return m.used[i/64]&(1<<(i%64)) != 0 }

func (m *ipam) addr(i int) string {
	a := m.base.As4()
	v := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
	v += uint32(i)
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}).String()
}

func (m *ipam) index(s string) (int, error) {
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is4() {
		return 0, fmt.Errorf("%q is not an IPv4 address", s)
	}
	b, x := m.base.As4(), a.As4()
	d := int(uint32(x[0])<<24|uint32(x[1])<<16|uint32(x[2])<<8|uint32(x[3])) -
		int(uint32(b[0])<<24|uint32(b[1])<<16|uint32(b[2])<<8|uint32(b[3]))
	if d < 0 || d >= m.size {
		return 0, fmt.Errorf("%s is outside the subnet", s)
	}
	return d, nil
}

// Available is the subnet's AvailableIpAddressCount.
func (m *ipam) Available() int { return m.size - 5 - m.n }

// take marks a specific address as used (loading saved state).
func (m *ipam) take(s string) error {
	i, err := m.index(s)
	if err != nil {
		return err
	}
	if m.isSet(i) {
		return fmt.Errorf("address %s is already in use", s)
	}
	m.set(i)
	m.n++
	return nil
}

// takePrefix marks a /28 block as used.
func (m *ipam) takePrefix(s string) error {
	p, err := netip.ParsePrefix(s)
	if err != nil || p.Bits() != 28 {
		return fmt.Errorf("%q is not a /28 prefix", s)
	}
	i, err := m.index(p.Addr().String())
	if err != nil {
		return err
	}
	for j := i; j < i+16; j++ {
		if j >= m.size || m.isSet(j) {
			return fmt.Errorf("prefix %s overlaps addresses in use", s)
		}
	}
	for j := i; j < i+16; j++ {
		m.set(j)
	}
	m.n += 16
	return nil
}

// alloc takes the lowest free address.
func (m *ipam) alloc() (string, bool) {
	for w, word := range m.used {
		if word == ^uint64(0) {
			continue
		}
		i := w*64 + bits.TrailingZeros64(^word)
		if i >= m.size {
			return "", false
		}
		m.set(i)
		m.n++
		return m.addr(i), true
	}
	return "", false
}

// allocScattered takes one address in the middle of the lowest /28 block
// that has no address taken yet, so that blocks are broken up: the layout
// that leaves a subnet with free addresses but no free /28 prefix.
func (m *ipam) allocScattered() (string, bool) {
	for i := 0; i+16 <= m.size; i += 16 {
		if m.blockFree(i) {
			m.set(i + 8)
			m.n++
			return m.addr(i + 8), true
		}
	}
	return m.alloc()
}

func (m *ipam) blockFree(i int) bool {
	// A /28 is 16 bits inside one 64-bit word, since blocks are aligned.
	word := m.used[i/64]
	return (word>>(i%64))&0xffff == 0
}

// allocPrefix takes the lowest free /28-aligned block, as the VPC CNI's
// prefix delegation needs: https://docs.aws.amazon.com/vpc/latest/userguide/ec2-prefix-eni.html
func (m *ipam) allocPrefix() (string, bool) {
	for i := 0; i+16 <= m.size; i += 16 {
		if m.blockFree(i) {
			for j := i; j < i+16; j++ {
				m.set(j)
			}
			m.n += 16
			return m.addr(i) + "/28", true
		}
	}
	return "", false
}

// FreePrefixes counts the /28-aligned blocks that are entirely free.
func (m *ipam) FreePrefixes() int {
	n := 0
	for i := 0; i+16 <= m.size; i += 16 {
		if m.blockFree(i) {
			n++
		}
	}
	return n
}

func (m *ipam) release(s string) {
	if i, err := m.index(s); err == nil && m.isSet(i) {
		m.clear(i)
		m.n--
	}
}

func (m *ipam) releasePrefix(s string) {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return
	}
	i, err := m.index(p.Addr().String())
	if err != nil {
		return
	}
	for j := i; j < i+16 && j < m.size; j++ {
		if m.isSet(j) {
			m.clear(j)
			m.n--
		}
	}
}
