package capacity

import (
	"net/netip"

	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// blockSize is the size of the /28 blocks prefix delegation assigns.
const blockSize = 16

// reservation is one IPv4 subnet CIDR reservation.
type reservation struct {
	cidr netip.Prefix
	typ  ec2types.SubnetCidrReservationType
}

// freeBlocks counts the /28-aligned blocks of subnet that prefix delegation
// could assign: blocks holding none of AWS's five reserved addresses (the
// first four and the last,
// https://docs.aws.amazon.com/vpc/latest/userguide/subnet-sizing.html), no
// address in used, no block in prefixes, and no address of an explicit CIDR
// reservation. Prefix reservations keep their blocks free: they are where
// EC2 assigns prefixes from
// (https://docs.aws.amazon.com/vpc/latest/userguide/subnet-cidr-reservation.html).
// used and prefixes hold addresses as uint32; those outside subnet are
// ignored.
func freeBlocks(subnet netip.Prefix, used, prefixes []uint32, res []reservation) int {
	bits := subnet.Bits()
	if !subnet.Addr().Is4() || bits < 0 || bits > 28 {
		return 0
	}
	base := addrU32(subnet.Masked().Addr())
	size := uint32(1) << (32 - bits)
	n := int(size / blockSize)
	taken := make([]bool, n)
	taken[0], taken[n-1] = true, true // network, router, DNS, reserved; broadcast
	mark := func(a uint32) {
		if a-base < size { // unsigned: also false below base
			taken[(a-base)/blockSize] = true
		}
	}
	for _, a := range used {
		mark(a)
	}
	for _, a := range prefixes {
		mark(a)
	}
	for _, r := range res {
		if r.typ != ec2types.SubnetCidrReservationTypeExplicit || !r.cidr.Addr().Is4() || !r.cidr.Overlaps(subnet) {
			continue
		}
		lo := max(addrU32(r.cidr.Masked().Addr()), base)
		hi := min(addrU32(r.cidr.Masked().Addr())+uint32(1)<<(32-r.cidr.Bits())-1, base+size-1)
		for b := (lo - base) / blockSize; b <= (hi-base)/blockSize; b++ {
			taken[b] = true
		}
	}
	free := 0
	for _, t := range taken {
		if !t {
			free++
		}
	}
	return free
}

// addrU32 is an IPv4 address as a number.
func addrU32(a netip.Addr) uint32 {
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

// parseU32 parses an IPv4 address in dotted-decimal form ("10.0.0.1"), or
// the address of an IPv4 prefix ("10.0.0.16/28"), as a number. It takes
// bytes so that the projector parses addresses without allocating.
func parseU32[T string | []byte](s T) (uint32, bool) {
	var v, octet uint32
	dots, digits := 0, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			if digits > 0 && octet == 0 { // no leading zeros, as netip
				return 0, false
			}
			octet = octet*10 + uint32(c-'0')
			digits++
			if octet > 255 {
				return 0, false
			}
		case c == '.' && digits > 0 && dots < 3:
			v, octet, digits = v<<8|octet, 0, 0
			dots++
		case c == '/' && digits > 0 && dots == 3:
			return v<<8 | octet, validBits(s[i+1:])
		default:
			return 0, false
		}
	}
	if dots != 3 || digits == 0 {
		return 0, false
	}
	return v<<8 | octet, true
}

// validBits reports whether s is an IPv4 prefix length, 0 to 32.
func validBits[T string | []byte](s T) bool {
	if len(s) == 0 || len(s) > 2 {
		return false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n <= 32
}
