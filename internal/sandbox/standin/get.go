package standin

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"
)

func (r *runner) getClusterCmd() *cobra.Command {
	var name, region, out string
	cmd := &cobra.Command{
		Use:     "cluster",
		Aliases: []string{"clusters"},
		Short:   "Get cluster(s)",
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				if name != "" {
					return fmt.Errorf("--name=%s and argument %s cannot be used at the same time", name, args[0])
				}
				name = args[0]
			}
			switch out {
			case "table", "json", "yaml":
			default:
				return fmt.Errorf("unknown output printer type: %s", out)
			}
			return r.getCluster(cmd.Context(), name, region, out)
		},
	}
	fs := cmd.Flags()
	fs.StringVarP(&name, "name", "n", "", "EKS cluster name")
	fs.StringVarP(&region, "region", "r", "", "AWS region")
	fs.StringVarP(&out, "output", "o", "table", "specifies the output format (valid option: table, json, yaml)")
	return cmd
}

// clusterSummary is what eksctl prints for each cluster when listing.
type clusterSummary struct {
	Name          string
	Region        string
	EksctlCreated string
}

func (r *runner) getCluster(ctx context.Context, name, region, out string) error {
	cfg, err := r.o.AWS(ctx, region)
	if err != nil {
		return err
	}
	eksc := eks.NewFromConfig(cfg)
	if name != "" {
		got, err := eksc.DescribeCluster(ctx, &eks.DescribeClusterInput{Name: &name})
		if err != nil {
			return fmt.Errorf("unable to describe control plane %q: %w", name, err)
		}
		c := got.Cluster
		return r.print(out, []*ekstypes.Cluster{c}, []string{"NAME", "VERSION", "STATUS", "CREATED", "VPC", "SUBNETS", "SECURITYGROUPS", "PROVIDER"},
			[][]string{{aws.ToString(c.Name), aws.ToString(c.Version), string(c.Status), aws.ToTime(c.CreatedAt).Format(time.RFC3339),
				aws.ToString(c.ResourcesVpcConfig.VpcId), strings.Join(c.ResourcesVpcConfig.SubnetIds, ","), strings.Join(c.ResourcesVpcConfig.SecurityGroupIds, ","), "EKS"}})
	}
	var sums []clusterSummary
	var rows [][]string
	p := eks.NewListClustersPaginator(eksc, &eks.ListClustersInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("listing control planes: %w", err)
		}
		for _, n := range page.Clusters {
			d, err := eksc.DescribeCluster(ctx, &eks.DescribeClusterInput{Name: aws.String(n)})
			if err != nil {
				return fmt.Errorf("describing control plane %q: %w", n, err)
			}
			owned := "False"
			if _, ok := d.Cluster.Tags["alpha.eksctl.io/cluster-name"]; ok {
				owned = "True"
			}
			sums = append(sums, clusterSummary{Name: n, Region: cfg.Region, EksctlCreated: owned})
			rows = append(rows, []string{n, cfg.Region, owned})
		}
	}
	if len(sums) == 0 && out == "table" {
		r.info("no clusters found")
		return nil
	}
	return r.print(out, sums, []string{"NAME", "REGION", "EKSCTL CREATED"}, rows)
}

// print writes v as eksctl's printers do: JSON and YAML of the objects,
// or a table.
func (r *runner) print(format string, v any, header []string, rows [][]string) error {
	switch format {
	case "json":
		b, err := json.MarshalIndent(v, "", "    ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(r.o.Out, string(b))
		return err
	case "yaml":
		b, err := yaml.Marshal(v)
		if err != nil {
			return err
		}
		_, err = r.o.Out.Write(b)
		return err
	}
	tw := tabwriter.NewWriter(r.o.Out, 0, 8, 1, '\t', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, row := range rows {
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	return tw.Flush()
}
