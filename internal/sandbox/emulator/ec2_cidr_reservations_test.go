package emulator_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/eksbg/eksbg/internal/sandbox/sandboxtest"
	"github.com/eksbg/eksbg/internal/sandbox/scenario"
)

// TestEC2SubnetCidrReservations covers Create, Get (filters, paging) and
// DeleteSubnetCidrReservation through the SDK and both AWS CLIs, their
// errors, and that reservations persist with the world.
func TestEC2SubnetCidrReservations(t *testing.T) {
	s, err := scenario.Parse("reservations.yaml", []byte(`apiVersion: eksbg.io/v1alpha1
kind: SandboxScenario
account: "111122223333"
region: us-east-1
vpcs:
  - id: vpc-0de00000000000001
    cidr: 10.20.0.0/16
    subnets:
      - {id: subnet-0de00000000000a01, az: us-east-1a, cidr: 10.20.0.0/22}
      - {id: subnet-0de00000000000b01, az: us-east-1b, cidr: 10.20.4.0/22}
`))
	if err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(t.TempDir(), "world.json")
	env := sandboxtest.Start(t, s, sandboxtest.WithState(state))
	client := ec2.NewFromConfig(env.AWS)
	ctx := context.Background()
	const subnet = "subnet-0de00000000000a01" // 10.20.0.0/22

	create := func(cidr string, typ types.SubnetCidrReservationType) (*ec2.CreateSubnetCidrReservationOutput, error) {
		return client.CreateSubnetCidrReservation(ctx, &ec2.CreateSubnetCidrReservationInput{SubnetId: aws.String(subnet),
			Cidr: aws.String(cidr), ReservationType: typ, Description: aws.String("for " + cidr),
			TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeSubnetCidrReservation,
				Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("platform")}}}}})
	}
	var ids []string
	for _, r := range []struct {
		cidr string
		typ  types.SubnetCidrReservationType
	}{{"10.20.2.0/24", types.SubnetCidrReservationTypePrefix}, {"10.20.3.0/28", types.SubnetCidrReservationTypeExplicit},
		{"10.20.3.16/28", types.SubnetCidrReservationTypeExplicit}, {"10.20.3.32/28", types.SubnetCidrReservationTypeExplicit},
		{"10.20.3.48/28", types.SubnetCidrReservationTypeExplicit}, {"10.20.3.64/28", types.SubnetCidrReservationTypeExplicit}} {
		out, err := create(r.cidr, r.typ)
		if err != nil {
			t.Fatalf("creating %s: %v", r.cidr, err)
		}
		got := out.SubnetCidrReservation
		if aws.ToString(got.Cidr) != r.cidr || got.ReservationType != r.typ || aws.ToString(got.SubnetId) != subnet ||
			aws.ToString(got.OwnerId) != env.Account || aws.ToString(got.Description) != "for "+r.cidr || tagValue(got.Tags, "team") != "platform" {
			t.Errorf("created %+v", got)
		}
		ids = append(ids, aws.ToString(got.SubnetCidrReservationId))
	}

	// Errors, as EC2 checks them.
	_, err = create("10.20.2.128/25", types.SubnetCidrReservationTypePrefix)
	wantAPIError(t, err, "InvalidParameterValue", "overlaps")
	_, err = create("10.20.8.0/24", types.SubnetCidrReservationTypePrefix)
	wantAPIError(t, err, "InvalidParameterValue", "not within the subnet")
	_, err = create("10.20.3.1/28", types.SubnetCidrReservationTypePrefix)
	wantAPIError(t, err, "InvalidParameterValue", "is invalid")
	_, err = create("10.20.1.0/24", "shared")
	wantAPIError(t, err, "InvalidParameterValue", "reservationType")
	_, err = client.CreateSubnetCidrReservation(ctx, &ec2.CreateSubnetCidrReservationInput{SubnetId: aws.String("subnet-0000000000000dead"),
		Cidr: aws.String("10.20.1.0/24"), ReservationType: types.SubnetCidrReservationTypePrefix})
	wantAPIError(t, err, "InvalidSubnetID.NotFound", "subnet-0000000000000dead")
	_, err = client.GetSubnetCidrReservations(ctx, &ec2.GetSubnetCidrReservationsInput{SubnetId: aws.String("subnet-0000000000000dead")})
	wantAPIError(t, err, "InvalidSubnetID.NotFound", "subnet-0000000000000dead")
	_, err = client.GetSubnetCidrReservations(ctx, &ec2.GetSubnetCidrReservationsInput{SubnetId: aws.String(subnet),
		Filters: []types.Filter{{Name: aws.String("cidr"), Values: []string{"x"}}}})
	wantAPIError(t, err, "InvalidParameterValue", "The filter 'cidr' is invalid")

	// Paging by 5, and filters.
	var all []types.SubnetCidrReservation
	in := &ec2.GetSubnetCidrReservationsInput{SubnetId: aws.String(subnet), MaxResults: aws.Int32(5)}
	pages := 0
	for {
		out, err := client.GetSubnetCidrReservations(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		all = append(all, out.SubnetIpv4CidrReservations...)
		if out.NextToken == nil {
			break
		}
		in.NextToken = out.NextToken
	}
	if len(all) != 6 || pages != 2 {
		t.Errorf("%d reservations in %d pages, want 6 in 2", len(all), pages)
	}
	out, err := client.GetSubnetCidrReservations(ctx, &ec2.GetSubnetCidrReservationsInput{SubnetId: aws.String(subnet),
		Filters: []types.Filter{{Name: aws.String("reservationType"), Values: []string{"prefix"}}}})
	if err != nil || len(out.SubnetIpv4CidrReservations) != 1 || aws.ToString(out.SubnetIpv4CidrReservations[0].Cidr) != "10.20.2.0/24" {
		t.Errorf("prefix reservations: %+v %v", out, err)
	}
	out, err = client.GetSubnetCidrReservations(ctx, &ec2.GetSubnetCidrReservationsInput{SubnetId: aws.String("subnet-0de00000000000b01")})
	if err != nil || len(out.SubnetIpv4CidrReservations) != 0 {
		t.Errorf("another subnet: %+v %v", out, err)
	}

	// Both CLIs read them.
	for _, cli := range ec2CLIs() {
		var got struct {
			SubnetIpv4CidrReservations []struct{ SubnetCidrReservationId, SubnetId, Cidr, ReservationType, OwnerId string }
			SubnetIpv6CidrReservations []any
		}
		cli.run(t, env, &got, "ec2", "get-subnet-cidr-reservations", "--subnet-id", subnet, "--filters", "Name=reservationType,Values=explicit")
		if len(got.SubnetIpv4CidrReservations) != 5 || got.SubnetIpv4CidrReservations[0].ReservationType != "explicit" {
			t.Errorf("%s: %+v", cli.name, got)
		}
	}

	// Delete, then it is gone; the others survive a restart.
	del, err := client.DeleteSubnetCidrReservation(ctx, &ec2.DeleteSubnetCidrReservationInput{SubnetCidrReservationId: aws.String(ids[0])})
	if err != nil || aws.ToString(del.DeletedSubnetCidrReservation.Cidr) != "10.20.2.0/24" {
		t.Fatalf("delete: %+v %v", del, err)
	}
	_, err = client.DeleteSubnetCidrReservation(ctx, &ec2.DeleteSubnetCidrReservationInput{SubnetCidrReservationId: aws.String(ids[0])})
	wantAPIError(t, err, "InvalidSubnetCidrReservationID.NotFound", ids[0])

	restarted := sandboxtest.Start(t, s, sandboxtest.WithState(state))
	out, err = ec2.NewFromConfig(restarted.AWS).GetSubnetCidrReservations(ctx, &ec2.GetSubnetCidrReservationsInput{SubnetId: aws.String(subnet)})
	if err != nil || len(out.SubnetIpv4CidrReservations) != 5 {
		t.Errorf("after a restart: %d reservations, %v", len(out.SubnetIpv4CidrReservations), err)
	}
}
