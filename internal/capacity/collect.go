package capacity

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/servicequotas"
	"golang.org/x/sync/errgroup"

	"github.com/eksbg/eksbg/internal/awserr"
)

// Page sizes: each API's largest, so that listings take the fewest calls.
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/Query-Requests.html#api-pagination
const (
	ec2PageSize           = 1000
	instanceTypesPageSize = 100 // DescribeInstanceTypes takes at most 100 names and 100 results
	eksPageSize           = 100
	elbPageSize           = 400
)

// Role tags. The AWS Load Balancer Controller picks subnets by the elb tags
// (https://kubernetes-sigs.github.io/aws-load-balancer-controller/latest/deploy/subnet_discovery/);
// the VPC CNI's subnet discovery adds subnets tagged kubernetes.io/role/cni=1
// (https://docs.aws.amazon.com/eks/latest/userguide/network-reqs.html#network-requirements-subnets).
const (
	tagELB         = "kubernetes.io/role/elb"
	tagInternalELB = "kubernetes.io/role/internal-elb"
	tagCNI         = "kubernetes.io/role/cni"
)

// subnetFacts is one subnet as the check reads it.
type subnetFacts struct {
	ID, VPC, AZ, CIDR string
	prefix            netip.Prefix
	Available         int
	elb, internalELB  bool
	cni               bool
	// reservations are its IPv4 CIDR reservations (read only for subnets
	// that prefix delegation uses).
	reservations []reservation
	// FreePrefixes is the number of free /28 blocks (see freeBlocks).
	FreePrefixes int
}

// usableIPs is the subnet's size minus AWS's five reserved addresses.
func (s *subnetFacts) usableIPs() int {
	if !s.prefix.IsValid() {
		return s.Available
	}
	return 1<<(32-s.prefix.Bits()) - 5
}

// typeFacts is one instance type.
type typeFacts struct {
	VCPUs, MaxENIs, IPv4PerENI int
	Nitro                      bool
}

// quotaKey names a quota as "<service code>/<quota code>".
type quotaKey string

// split returns the service and quota codes.
func (k quotaKey) split() (service, code string) {
	service, code, _ = strings.Cut(string(k), "/")
	return service, code
}

// regionFacts is what one account and region holds, read once for every
// input that lives there.
type regionFacts struct {
	subnets map[string]*subnetFacts
	byVPC   map[string][]*subnetFacts
	types   map[string]typeFacts
	limits  map[quotaKey]float64

	onDemandVCPUs, spotVCPUs int
	enis                     int
	clusters                 map[string]bool
	targetGroups             map[string]bool
	// rules counts the listener rules (default rules excluded) per load
	// balancer ARN.
	rules map[string]int
}

// eniAddrs are the addresses network interfaces hold in one subnet.
type eniAddrs struct{ ips, prefixes []uint32 }

// collector reads regionFacts with at most cap(sem) calls in flight.
type collector struct {
	c   Clients
	sem chan struct{}

	// clusters memoises ListClusters: CheckAll needs it before preparing
	// (is there a blue cluster to count pods on?) and the quota check after.
	clustersOnce sync.Once
	clusters     []string
	clustersErr  error
}

func newCollector(c Clients) *collector {
	n := c.Concurrency
	if n <= 0 {
		n = DefaultConcurrency
	}
	return &collector{c: c, sem: make(chan struct{}, n)}
}

// do runs one AWS call under the concurrency limit.
func (co *collector) do(ctx context.Context, f func(context.Context) error) error {
	select {
	case co.sem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-co.sem }()
	return f(ctx)
}

// page is one paginator's NextPage, under the limit.
func page[O, T any](ctx context.Context, co *collector, next func(context.Context, ...func(*O)) (T, error)) (T, error) {
	var out T
	err := co.do(ctx, func(ctx context.Context) error {
		var err error
		out, err = next(ctx)
		return err
	})
	return out, err
}

// plan is what the inputs of one region need read.
type plan struct {
	vpcs          []string
	instanceTypes []string
	loadBalancers []string
	// pdSubnets returns, once a VPC's subnets are known, the subnets whose
	// CIDR reservations prefix delegation needs.
	pdSubnets func(vpc string, subnets []*subnetFacts) []*subnetFacts
	quotas    []quotaKey
}

// collect reads everything p needs, concurrently. The chains of calls that
// depend on each other: DescribeAvailabilityZones, then per zone a
// DescribeNetworkInterfaces and a DescribeInstances scan, then
// DescribeInstanceTypes for running types not asked for already;
// DescribeSubnets of a VPC, then GetSubnetCidrReservations of its
// prefix-delegation subnets; GetServiceQuota, then
// GetAWSDefaultServiceQuota; DescribeListeners, then DescribeRules.
// Everything else is one listing each.
func (co *collector) collect(ctx context.Context, p plan) (*regionFacts, error) {
	f := &regionFacts{subnets: map[string]*subnetFacts{}, byVPC: map[string][]*subnetFacts{}, types: map[string]typeFacts{},
		limits: map[quotaKey]float64{}, clusters: map[string]bool{}, targetGroups: map[string]bool{}, rules: map[string]int{}}
	var mu sync.Mutex // guards f's maps while tasks run
	g, ctx := errgroup.WithContext(ctx)

	inVPC := map[string]bool{}
	for _, v := range p.vpcs {
		inVPC[v] = true
	}
	var eniByAZ []map[string]*eniAddrs
	var eniCounts []int

	// The zonal scans are the longest chain: they go first.
	var running map[instanceCount]int
	g.Go(func() error {
		var extra map[string]typeFacts
		var err error
		eniByAZ, eniCounts, running, extra, err = co.zonal(ctx, inVPC, p.instanceTypes)
		if err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		for k, v := range extra {
			f.types[k] = v
		}
		return nil
	})
	for _, vpc := range p.vpcs {
		g.Go(func() error {
			subnets, err := co.vpcSubnets(ctx, vpc)
			if err != nil {
				return err
			}
			if err := co.reservations(ctx, p.pdSubnets(vpc, subnets)); err != nil {
				return err
			}
			mu.Lock()
			defer mu.Unlock()
			f.byVPC[vpc] = subnets
			for _, s := range subnets {
				f.subnets[s.ID] = s
			}
			return nil
		})
	}
	if len(p.instanceTypes) > 0 {
		g.Go(func() error {
			types, err := co.instanceTypes(ctx, p.instanceTypes)
			if err != nil {
				return err
			}
			mu.Lock()
			defer mu.Unlock()
			for k, v := range types {
				f.types[k] = v
			}
			return nil
		})
	}
	for _, q := range p.quotas {
		g.Go(func() error {
			v, err := co.quota(ctx, q)
			if err != nil {
				return err
			}
			mu.Lock()
			f.limits[q] = v
			mu.Unlock()
			return nil
		})
	}
	g.Go(func() error {
		names, err := co.clusterNames(ctx)
		if err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		for _, n := range names {
			f.clusters[n] = true
		}
		return nil
	})
	g.Go(func() error {
		arns, err := co.targetGroups(ctx)
		if err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		for _, a := range arns {
			f.targetGroups[a] = true
		}
		return nil
	})
	for _, lb := range p.loadBalancers {
		g.Go(func() error {
			n, err := co.rulesOf(ctx, lb)
			if err != nil {
				return err
			}
			mu.Lock()
			f.rules[lb] = n
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}

	for _, n := range eniCounts {
		f.enis += n
	}
	for k, n := range running {
		switch {
		case !standardFamily(k.typ):
		case k.spot:
			f.spotVCPUs += n * f.types[k.typ].VCPUs
		default:
			f.onDemandVCPUs += n * f.types[k.typ].VCPUs
		}
	}
	for _, s := range f.subnets {
		var used, prefixes []uint32
		for _, m := range eniByAZ {
			if a := m[s.ID]; a != nil {
				used, prefixes = append(used, a.ips...), append(prefixes, a.prefixes...)
			}
		}
		s.FreePrefixes = freeBlocks(s.prefix, used, prefixes, s.reservations)
	}
	return f, nil
}

// vpcSubnets lists a VPC's subnets: one paginated DescribeSubnets.
func (co *collector) vpcSubnets(ctx context.Context, vpc string) ([]*subnetFacts, error) {
	pg := ec2.NewDescribeSubnetsPaginator(co.c.EC2, &ec2.DescribeSubnetsInput{
		Filters:    []ec2types.Filter{{Name: aws.String("vpc-id"), Values: []string{vpc}}},
		MaxResults: aws.Int32(ec2PageSize),
	})
	var out []*subnetFacts
	for pg.HasMorePages() {
		res, err := page(ctx, co, pg.NextPage)
		if err != nil {
			return nil, fmt.Errorf("describing the subnets of %s: %w", vpc, err)
		}
		for _, s := range res.Subnets {
			out = append(out, newSubnetFacts(s))
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("VPC %s has no subnets or does not exist", vpc)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

func newSubnetFacts(s ec2types.Subnet) *subnetFacts {
	sf := &subnetFacts{ID: aws.ToString(s.SubnetId), VPC: aws.ToString(s.VpcId), AZ: aws.ToString(s.AvailabilityZone),
		CIDR: aws.ToString(s.CidrBlock), Available: int(aws.ToInt32(s.AvailableIpAddressCount))}
	sf.prefix, _ = netip.ParsePrefix(sf.CIDR)
	for _, t := range s.Tags {
		switch aws.ToString(t.Key) {
		case tagELB:
			sf.elb = true
		case tagInternalELB:
			sf.internalELB = true
		case tagCNI:
			sf.cni = aws.ToString(t.Value) == "1"
		}
	}
	return sf
}

// subnetVPCs finds the VPCs of subnets named by ID (for configs that name
// subnets but no VPC).
func (co *collector) subnetVPCs(ctx context.Context, ids []string) (map[string]string, error) {
	out := map[string]string{}
	for chunk := range slices.Chunk(ids, 200) {
		pg := ec2.NewDescribeSubnetsPaginator(co.c.EC2, &ec2.DescribeSubnetsInput{
			Filters: []ec2types.Filter{{Name: aws.String("subnet-id"), Values: chunk}}, MaxResults: aws.Int32(ec2PageSize)})
		for pg.HasMorePages() {
			res, err := page(ctx, co, pg.NextPage)
			if err != nil {
				return nil, fmt.Errorf("describing subnets %s: %w", strings.Join(chunk, ", "), err)
			}
			for _, s := range res.Subnets {
				out[aws.ToString(s.SubnetId)] = aws.ToString(s.VpcId)
			}
		}
	}
	return out, nil
}

// reservations reads the CIDR reservations of each subnet (the API takes
// one subnet per call).
func (co *collector) reservations(ctx context.Context, subnets []*subnetFacts) error {
	g, ctx := errgroup.WithContext(ctx)
	for _, s := range subnets {
		g.Go(func() error {
			in := &ec2.GetSubnetCidrReservationsInput{SubnetId: aws.String(s.ID), MaxResults: aws.Int32(ec2PageSize)}
			for {
				var res *ec2.GetSubnetCidrReservationsOutput
				err := co.do(ctx, func(ctx context.Context) error {
					var err error
					res, err = co.c.EC2.GetSubnetCidrReservations(ctx, in)
					return err
				})
				if err != nil {
					return fmt.Errorf("getting the CIDR reservations of %s: %w", s.ID, err)
				}
				for _, r := range res.SubnetIpv4CidrReservations {
					if p, err := netip.ParsePrefix(aws.ToString(r.Cidr)); err == nil {
						s.reservations = append(s.reservations, reservation{cidr: p, typ: r.ReservationType})
					}
				}
				if aws.ToString(res.NextToken) == "" {
					return nil
				}
				in.NextToken = res.NextToken
			}
		})
	}
	return g.Wait()
}

// instanceTypes describes instance types, 100 names per call.
func (co *collector) instanceTypes(ctx context.Context, names []string) (map[string]typeFacts, error) {
	out := map[string]typeFacts{}
	for chunk := range slices.Chunk(names, instanceTypesPageSize) {
		in := &ec2.DescribeInstanceTypesInput{}
		for _, n := range chunk {
			in.InstanceTypes = append(in.InstanceTypes, ec2types.InstanceType(n))
		}
		pg := ec2.NewDescribeInstanceTypesPaginator(co.c.EC2, in)
		for pg.HasMorePages() {
			res, err := page(ctx, co, pg.NextPage)
			if err != nil {
				return nil, fmt.Errorf("describing instance types %s: %w", strings.Join(chunk, ", "), err)
			}
			for _, it := range res.InstanceTypes {
				out[string(it.InstanceType)] = newTypeFacts(it)
			}
		}
	}
	return out, nil
}

// newTypeFacts reads the network limits of network card 0, the only one
// the VPC CNI uses for IPv4
// (https://github.com/aws/amazon-vpc-cni-k8s/blob/master/docs/prefix-and-ip-target.md).
func newTypeFacts(it ec2types.InstanceTypeInfo) typeFacts {
	tf := typeFacts{Nitro: it.Hypervisor == ec2types.InstanceTypeHypervisorNitro || aws.ToBool(it.BareMetal)}
	if it.VCpuInfo != nil {
		tf.VCPUs = int(aws.ToInt32(it.VCpuInfo.DefaultVCpus))
	}
	if ni := it.NetworkInfo; ni != nil {
		tf.MaxENIs = int(aws.ToInt32(ni.MaximumNetworkInterfaces))
		tf.IPv4PerENI = int(aws.ToInt32(ni.Ipv4AddressesPerInterface))
		for _, card := range ni.NetworkCards {
			if aws.ToInt32(card.NetworkCardIndex) == 0 && card.MaximumNetworkInterfaces != nil {
				tf.MaxENIs = int(aws.ToInt32(card.MaximumNetworkInterfaces))
			}
		}
	}
	return tf
}

// zonal reads what is listed per availability zone: the region's network
// interfaces and its pending and running instances, one paginated scan of
// each per zone, all in parallel after DescribeAvailabilityZones. Splitting
// by zone shortens the chains of dependent page calls to a third (or
// whatever the zone count) at the cost of at most one call per zone and
// listing. The ENI count is the ENI quota's usage, the addresses of those
// in VPCs of interest decide which /28 blocks are free, and the instances'
// Standard-family types not asked for already are described last (their
// vCPUs are the vCPU quotas' usage).
func (co *collector) zonal(ctx context.Context, vpcs map[string]bool, known []string) (
	byAZ []map[string]*eniAddrs, enis []int, running map[instanceCount]int, extra map[string]typeFacts, err error) {
	var zones *ec2.DescribeAvailabilityZonesOutput
	err = co.do(ctx, func(ctx context.Context) error {
		var err error
		zones, err = co.c.EC2.DescribeAvailabilityZones(ctx, &ec2.DescribeAvailabilityZonesInput{})
		return err
	})
	if err != nil {
		return nil, nil, nil, nil, fmt.Errorf("describing availability zones: %w", err)
	}
	n := len(zones.AvailabilityZones)
	byAZ, enis = make([]map[string]*eniAddrs, n), make([]int, n)
	instances := make([]map[instanceCount]int, n)
	g, gctx := errgroup.WithContext(ctx)
	for i, z := range zones.AvailabilityZones {
		zone := aws.ToString(z.ZoneName)
		g.Go(func() error {
			var err error
			byAZ[i], enis[i], err = co.networkInterfaces(gctx, zone, vpcs)
			return err
		})
		g.Go(func() error {
			var err error
			instances[i], err = co.instances(gctx, zone)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, nil, nil, nil, err
	}
	running = map[instanceCount]int{}
	var missing []string
	for _, m := range instances {
		for k, c := range m {
			running[k] += c
			if standardFamily(k.typ) && !slices.Contains(known, k.typ) && !slices.Contains(missing, k.typ) {
				missing = append(missing, k.typ)
			}
		}
	}
	sort.Strings(missing)
	extra, err = co.instanceTypes(ctx, missing)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	return byAZ, enis, running, extra, nil
}

// networkInterfaces scans the network interfaces of one zone. It keeps
// only their addresses (4 bytes each), read by the projector, so memory
// grows with the addresses, not with the API's responses.
func (co *collector) networkInterfaces(ctx context.Context, zone string, vpcs map[string]bool) (map[string]*eniAddrs, int, error) {
	m := map[string]*eniAddrs{}
	pg := ec2.NewDescribeNetworkInterfacesPaginator(co.c.EC2, &ec2.DescribeNetworkInterfacesInput{
		Filters:    []ec2types.Filter{{Name: aws.String("availability-zone"), Values: []string{zone}}},
		MaxResults: aws.Int32(ec2PageSize),
	})
	v := &eniVisitor{vpcs: vpcs, out: m}
	proj := project("DescribeNetworkInterfaces", func(body io.Reader) (string, error) {
		v.token = ""
		err := scanXML(body, v)
		return v.token, err
	})
	for pg.HasMorePages() {
		if _, err := page(ctx, co, func(ctx context.Context, opts ...func(*ec2.Options)) (*ec2.DescribeNetworkInterfacesOutput, error) {
			return pg.NextPage(ctx, append(opts, proj)...)
		}); err != nil {
			return nil, 0, fmt.Errorf("describing the network interfaces in %s: %w", zone, err)
		}
	}
	return m, v.count, nil
}

// instanceCount is how many pending or running instances of a type exist.
type instanceCount struct {
	typ  string
	spot bool
}

// instances counts the pending and running instances of one zone by type
// and purchase option.
func (co *collector) instances(ctx context.Context, zone string) (map[instanceCount]int, error) {
	counts := map[instanceCount]int{}
	pg := ec2.NewDescribeInstancesPaginator(co.c.EC2, &ec2.DescribeInstancesInput{
		Filters: []ec2types.Filter{
			{Name: aws.String("availability-zone"), Values: []string{zone}},
			{Name: aws.String("instance-state-name"), Values: []string{"pending", "running"}},
		},
		MaxResults: aws.Int32(ec2PageSize),
	})
	v := &instanceVisitor{counts: counts}
	proj := project("DescribeInstances", func(body io.Reader) (string, error) {
		v.token = ""
		err := scanXML(body, v)
		return v.token, err
	})
	for pg.HasMorePages() {
		if _, err := page(ctx, co, func(ctx context.Context, opts ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error) {
			return pg.NextPage(ctx, append(opts, proj)...)
		}); err != nil {
			return nil, fmt.Errorf("describing the instances in %s: %w", zone, err)
		}
	}
	return counts, nil
}

// standardFamily reports whether an instance type counts against the
// Standard (A, C, D, H, I, M, R, T, Z) vCPU quotas: its family (the letters
// before the generation digit) starts with one of those letters, except the
// families with quotas of their own (Inf, DL, Trn, Mac, HPC).
// https://docs.aws.amazon.com/ec2/latest/instancetypes/ec2-instance-quotas.html
func standardFamily(typ string) bool {
	family, _, _ := strings.Cut(typ, ".")
	if i := strings.IndexAny(family, "0123456789"); i > 0 {
		family = family[:i]
	}
	switch family {
	case "", "inf", "dl", "trn", "mac", "hpc":
		return false
	}
	return strings.ContainsRune("acdhimrtz", rune(family[0]))
}

// quota reads a quota's applied value, or its AWS default when the account
// has none: GetServiceQuota fails with NoSuchResourceException for quotas
// whose applied value is not available
// (https://docs.aws.amazon.com/servicequotas/2019-06-24/apireference/API_GetServiceQuota.html).
func (co *collector) quota(ctx context.Context, q quotaKey) (float64, error) {
	service, code := q.split()
	var v *float64
	err := co.do(ctx, func(ctx context.Context) error {
		out, err := co.c.Quotas.GetServiceQuota(ctx, &servicequotas.GetServiceQuotaInput{ServiceCode: aws.String(service), QuotaCode: aws.String(code)})
		if err == nil && out.Quota != nil {
			v = out.Quota.Value
		}
		return err
	})
	switch {
	case err == nil && v != nil:
		return *v, nil
	case err != nil && !awserr.IsNotFound(err): // NoSuchResourceException: no applied value
		return 0, fmt.Errorf("getting quota %s: %w", q, err)
	}
	err = co.do(ctx, func(ctx context.Context) error {
		out, err := co.c.Quotas.GetAWSDefaultServiceQuota(ctx, &servicequotas.GetAWSDefaultServiceQuotaInput{ServiceCode: aws.String(service), QuotaCode: aws.String(code)})
		if err == nil && out.Quota != nil {
			v = out.Quota.Value
		}
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("getting the default of quota %s: %w", q, err)
	}
	if v == nil {
		return 0, fmt.Errorf("quota %s has no value", q)
	}
	return *v, nil
}

// clusterNames lists the region's EKS clusters, once per collector.
func (co *collector) clusterNames(ctx context.Context) ([]string, error) {
	co.clustersOnce.Do(func() { co.clusters, co.clustersErr = co.listClusters(ctx) })
	return co.clusters, co.clustersErr
}

func (co *collector) listClusters(ctx context.Context) ([]string, error) {
	pg := eks.NewListClustersPaginator(co.c.EKS, &eks.ListClustersInput{MaxResults: aws.Int32(eksPageSize)})
	var out []string
	for pg.HasMorePages() {
		res, err := page(ctx, co, pg.NextPage)
		if err != nil {
			return nil, fmt.Errorf("listing clusters: %w", err)
		}
		out = append(out, res.Clusters...)
	}
	return out, nil
}

// targetGroups lists the region's target group ARNs.
func (co *collector) targetGroups(ctx context.Context) ([]string, error) {
	pg := elb.NewDescribeTargetGroupsPaginator(co.c.ELB, &elb.DescribeTargetGroupsInput{PageSize: aws.Int32(elbPageSize)})
	var out []string
	for pg.HasMorePages() {
		res, err := page(ctx, co, pg.NextPage)
		if err != nil {
			return nil, fmt.Errorf("describing target groups: %w", err)
		}
		for _, tg := range res.TargetGroups {
			out = append(out, aws.ToString(tg.TargetGroupArn))
		}
	}
	return out, nil
}

// rulesOf counts a load balancer's listener rules, default rules excluded
// as the rules-per-ALB quota counts them
// (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-limits.html).
func (co *collector) rulesOf(ctx context.Context, lb string) (int, error) {
	pg := elb.NewDescribeListenersPaginator(co.c.ELB, &elb.DescribeListenersInput{LoadBalancerArn: aws.String(lb), PageSize: aws.Int32(elbPageSize)})
	var listeners []string
	for pg.HasMorePages() {
		res, err := page(ctx, co, pg.NextPage)
		if err != nil {
			return 0, fmt.Errorf("describing the listeners of %s: %w", lb, err)
		}
		for _, l := range res.Listeners {
			listeners = append(listeners, aws.ToString(l.ListenerArn))
		}
	}
	counts := make([]int, len(listeners))
	g, ctx := errgroup.WithContext(ctx)
	for i, l := range listeners {
		g.Go(func() error {
			pg := elb.NewDescribeRulesPaginator(co.c.ELB, &elb.DescribeRulesInput{ListenerArn: aws.String(l), PageSize: aws.Int32(elbPageSize)})
			for pg.HasMorePages() {
				res, err := page(ctx, co, pg.NextPage)
				if err != nil {
					return fmt.Errorf("describing the rules of %s: %w", l, err)
				}
				for _, r := range res.Rules {
					if !aws.ToBool(r.IsDefault) {
						counts[i]++
					}
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return 0, err
	}
	n := 0
	for _, c := range counts {
		n += c
	}
	return n, nil
}

// loadBalancerOf returns the load balancer ARN of a listener rule ARN
// (arn:...:listener-rule/app/<name>/<lb-id>/<listener-id>/<rule-id>), or "".
func loadBalancerOf(rule string) string {
	head, res, ok := strings.Cut(rule, ":listener-rule/")
	parts := strings.Split(res, "/")
	if !ok || len(parts) != 5 {
		return ""
	}
	return head + ":loadbalancer/" + strings.Join(parts[:3], "/")
}
