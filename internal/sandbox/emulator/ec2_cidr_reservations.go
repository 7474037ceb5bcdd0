package emulator

import (
	"net/netip"

	"github.com/eksbg/eksbg/internal/sandbox/wire"
)

// Subnet CIDR reservations: GetSubnetCidrReservations,
// CreateSubnetCidrReservation and DeleteSubnetCidrReservation.
// https://docs.aws.amazon.com/vpc/latest/userguide/subnet-cidr-reservation.html
//
// The emulator records reservations and lists them; its own address
// allocation (node groups, scenario ENIs) does not avoid them, so a test
// that wants reserved space left alone reserves space nothing else uses.
// Only IPv4 reservations exist here.

// CIDRReservation is one subnet CIDR reservation.
type CIDRReservation struct {
	ID          string            `json:"id"`
	SubnetID    string            `json:"subnetId"`
	CIDR        string            `json:"cidr"`
	Type        string            `json:"type"` // prefix or explicit
	Description string            `json:"description,omitempty"`
	Tags        map[string]string `json:"tags,omitempty"`
}

func (s *Server) registerEC2CIDRReservations() {
	s.register(wire.ServiceEC2, "GetSubnetCidrReservations", getSubnetCidrReservations)
	s.register(wire.ServiceEC2, "CreateSubnetCidrReservation", createSubnetCidrReservation)
	s.register(wire.ServiceEC2, "DeleteSubnetCidrReservation", deleteSubnetCidrReservation)
}

// ec2CIDRReservation is EC2's SubnetCidrReservation shape.
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_SubnetCidrReservation.html
type ec2CIDRReservation struct {
	SubnetCidrReservationID string     `xml:"subnetCidrReservationId"`
	SubnetID                string     `xml:"subnetId"`
	Cidr                    string     `xml:"cidr"`
	ReservationType         string     `xml:"reservationType"`
	OwnerID                 string     `xml:"ownerId"`
	Description             string     `xml:"description,omitempty"`
	Tags                    *ec2TagSet `xml:"tagSet,omitempty"`
}

func (w *World) ec2CIDRReservation(r *CIDRReservation) ec2CIDRReservation {
	return ec2CIDRReservation{SubnetCidrReservationID: r.ID, SubnetID: r.SubnetID, Cidr: r.CIDR, ReservationType: r.Type,
		OwnerID: w.Account, Description: r.Description, Tags: ec2Tags(r.Tags)}
}

type getSubnetCidrReservationsResponse struct {
	wire.EC2Meta
	IPv4      []ec2CIDRReservation `xml:"subnetIpv4CidrReservationSet>item"`
	IPv6      ec2Empty             `xml:"subnetIpv6CidrReservationSet"`
	NextToken string               `xml:"nextToken,omitempty"`
}

// ---- GetSubnetCidrReservations ----
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_GetSubnetCidrReservations.html

func getSubnetCidrReservations(c *call) (any, *wire.APIError) {
	if aerr := ec2DryRun(c); aerr != nil {
		return nil, aerr
	}
	w := c.w
	paging := ec2Paging{op: "GetSubnetCidrReservations", min: 5, max: 1000}
	if _, aerr := ec2CheckPaging(c, paging, 0); aerr != nil {
		return nil, aerr
	}
	subnet := c.req.Form.String("SubnetId")
	if subnet == "" {
		return nil, wire.BadRequest("MissingParameter", "The request must contain the parameter SubnetId")
	}
	fields := ec2WithOwner(map[string]ec2Field[*CIDRReservation]{
		"reservationType":            func(r *CIDRReservation, f *ec2Filter) bool { return f.match(r.Type) },
		"subnet-cidr-reservation-id": func(r *CIDRReservation, f *ec2Filter) bool { return f.match(r.ID) },
		"subnet-id":                  func(r *CIDRReservation, f *ec2Filter) bool { return f.match(r.SubnetID) },
	}, w.Account)
	preds, aerr := compileEC2Filters(c.req.Form.EC2Filters(), fields, func(r *CIDRReservation) map[string]string { return r.Tags })
	if aerr != nil {
		return nil, aerr
	}
	if _, ok := w.Subnets[subnet]; !ok {
		return nil, ec2NotFound("InvalidSubnetID.NotFound", "subnet", []string{subnet})
	}
	var matched []*CIDRReservation
	for _, id := range sortedKeys(w.CIDRReservations) {
		if r := w.CIDRReservations[id]; r.SubnetID == subnet && ec2Matches(r, preds) {
			matched = append(matched, r)
		}
	}
	start, end, next, aerr := ec2Page(c, paging, len(matched), 0)
	if aerr != nil {
		return nil, aerr
	}
	out := &getSubnetCidrReservationsResponse{NextToken: next, IPv4: make([]ec2CIDRReservation, 0, end-start)}
	for _, r := range matched[start:end] {
		out.IPv4 = append(out.IPv4, w.ec2CIDRReservation(r))
	}
	return out, nil
}

// ---- CreateSubnetCidrReservation ----
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateSubnetCidrReservation.html

type createSubnetCidrReservationResponse struct {
	wire.EC2Meta
	Reservation ec2CIDRReservation `xml:"subnetCidrReservation"`
}

// createSubnetCidrReservation checks what AWS documents: the CIDR lies in
// the subnet and overlaps no other reservation of the VPC. (A reservation
// may cover addresses in use.)
func createSubnetCidrReservation(c *call) (any, *wire.APIError) {
	if aerr := ec2DryRun(c); aerr != nil {
		return nil, aerr
	}
	w := c.w
	form := c.req.Form
	for _, p := range []string{"SubnetId", "Cidr", "ReservationType"} {
		if form.String(p) == "" {
			return nil, wire.BadRequest("MissingParameter", "The request must contain the parameter %s", p)
		}
	}
	typ := form.String("ReservationType")
	if typ != "prefix" && typ != "explicit" {
		return nil, wire.BadRequest("InvalidParameterValue", "Value (%s) for parameter reservationType is invalid. Valid values are: prefix, explicit", typ)
	}
	sn, ok := w.Subnets[form.String("SubnetId")]
	if !ok {
		return nil, ec2NotFound("InvalidSubnetID.NotFound", "subnet", []string{form.String("SubnetId")})
	}
	cidr, err := netip.ParsePrefix(form.String("Cidr"))
	if err != nil || !cidr.Addr().Is4() || cidr.Masked() != cidr {
		return nil, wire.BadRequest("InvalidParameterValue", "The CIDR '%s' is invalid.", form.String("Cidr"))
	}
	subnet, _ := netip.ParsePrefix(sn.CIDR)
	if !subnet.Contains(cidr.Addr()) || cidr.Bits() < subnet.Bits() {
		return nil, wire.BadRequest("InvalidParameterValue", "The CIDR '%s' is not within the subnet CIDR '%s'.", cidr, sn.CIDR)
	}
	for _, id := range sortedKeys(w.CIDRReservations) {
		r := w.CIDRReservations[id]
		other, _ := netip.ParsePrefix(r.CIDR)
		if o := w.Subnets[r.SubnetID]; o != nil && o.VPCID == sn.VPCID && other.Overlaps(cidr) {
			return nil, wire.BadRequest("InvalidParameterValue", "The CIDR '%s' overlaps reservation %s (%s).", cidr, r.ID, r.CIDR)
		}
	}
	r := &CIDRReservation{ID: w.newID("scr-", 17), SubnetID: sn.ID, CIDR: cidr.String(), Type: typ, Description: form.String("Description")}
	for _, spec := range form.EC2Structs("TagSpecification") {
		for _, t := range spec.EC2Structs("Tag") {
			if r.Tags == nil {
				r.Tags = map[string]string{}
			}
			r.Tags[t.String("Key")] = t.String("Value")
		}
	}
	if w.CIDRReservations == nil {
		w.CIDRReservations = map[string]*CIDRReservation{}
	}
	w.CIDRReservations[r.ID] = r
	c.changed()
	return &createSubnetCidrReservationResponse{Reservation: w.ec2CIDRReservation(r)}, nil
}

// ---- DeleteSubnetCidrReservation ----
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DeleteSubnetCidrReservation.html

type deleteSubnetCidrReservationResponse struct {
	wire.EC2Meta
	Deleted ec2CIDRReservation `xml:"deletedSubnetCidrReservation"`
}

func deleteSubnetCidrReservation(c *call) (any, *wire.APIError) {
	if aerr := ec2DryRun(c); aerr != nil {
		return nil, aerr
	}
	w := c.w
	id := c.req.Form.String("SubnetCidrReservationId")
	if id == "" {
		return nil, wire.BadRequest("MissingParameter", "The request must contain the parameter SubnetCidrReservationId")
	}
	r, ok := w.CIDRReservations[id]
	if !ok {
		return nil, wire.BadRequest("InvalidSubnetCidrReservationID.NotFound", "The subnet CIDR reservation ID '%s' does not exist", id)
	}
	delete(w.CIDRReservations, id)
	c.changed()
	return &deleteSubnetCidrReservationResponse{Deleted: w.ec2CIDRReservation(r)}, nil
}
