package fake

import (
	"context"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// EC2 serves network interfaces from memory; DescribeNetworkInterfaces
// honours "tag:KEY" filters only.
type EC2 struct {
	Calls
	Errors
	mu   sync.Mutex
	ENIs []ec2types.NetworkInterface
}

// PutENI adds a network interface with the given tags.
func (f *EC2) PutENI(id string, tags map[string]string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	eni := ec2types.NetworkInterface{NetworkInterfaceId: aws.String(id)}
	for k, v := range tags {
		eni.TagSet = append(eni.TagSet, ec2types.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	f.ENIs = append(f.ENIs, eni)
}

// DescribeNetworkInterfaces implements upgrade.EC2API (one page).
func (f *EC2) DescribeNetworkInterfaces(_ context.Context, in *ec2.DescribeNetworkInterfacesInput, _ ...func(*ec2.Options)) (*ec2.DescribeNetworkInterfacesOutput, error) {
	f.add("DescribeNetworkInterfaces")
	if err := f.take("DescribeNetworkInterfaces"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	out := &ec2.DescribeNetworkInterfacesOutput{}
	for _, eni := range f.ENIs {
		if matches(eni.TagSet, in.Filters) {
			out.NetworkInterfaces = append(out.NetworkInterfaces, eni)
		}
	}
	return out, nil
}

func matches(tags []ec2types.Tag, filters []ec2types.Filter) bool {
	for _, fl := range filters {
		name := aws.ToString(fl.Name)
		if len(name) < 4 || name[:4] != "tag:" {
			continue
		}
		ok := false
		for _, t := range tags {
			if aws.ToString(t.Key) != name[4:] {
				continue
			}
			for _, v := range fl.Values {
				ok = ok || v == aws.ToString(t.Value)
			}
		}
		if !ok {
			return false
		}
	}
	return true
}
