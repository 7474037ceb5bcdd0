package standin

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"
)

type deleteClusterFlags struct {
	name, file, region string
	wait               bool
	timeout            time.Duration
}

func (r *runner) deleteClusterCmd() *cobra.Command {
	f := &deleteClusterFlags{}
	cmd := &cobra.Command{
		Use:   "cluster",
		Short: "Delete a cluster",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				if f.name != "" {
					return fmt.Errorf("--name=%s and argument %s cannot be used at the same time", f.name, args[0])
				}
				f.name = args[0]
			}
			if f.file != "" {
				if f.name != "" {
					return errors.New("cannot use --name when --config-file/-f flag is used")
				}
				c, _, err := r.load(f.file)
				if err != nil {
					return err
				}
				f.name, f.region = c.Metadata.Name, firstNonEmpty(f.region, c.Metadata.Region)
			}
			if f.name == "" {
				return errors.New("--name must be set")
			}
			return r.deleteCluster(cmd.Context(), f)
		},
	}
	fs := cmd.Flags()
	fs.StringVarP(&f.name, "name", "n", "", "EKS cluster name")
	fs.StringVarP(&f.file, "config-file", "f", "", "load configuration from a file (or stdin if set to '-')")
	fs.StringVarP(&f.region, "region", "r", "", "AWS region")
	fs.BoolVarP(&f.wait, "wait", "w", false, "wait for deletion of all resources before exiting")
	fs.DurationVar(&f.timeout, "timeout", waitMax, "maximum waiting time for any long-running operation")
	return cmd
}

func (r *runner) deleteCluster(ctx context.Context, f *deleteClusterFlags) error {
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	cfg, err := r.o.AWS(ctx, f.region)
	if err != nil {
		return err
	}
	eksc := eks.NewFromConfig(cfg)
	r.info("deleting EKS cluster %q", f.name)
	if _, err := eksc.DescribeCluster(ctx, &eks.DescribeClusterInput{Name: &f.name}); err != nil {
		return fmt.Errorf("unable to describe cluster control plane: %w", err)
	}
	var ngs []string
	p := eks.NewListNodegroupsPaginator(eksc, &eks.ListNodegroupsInput{ClusterName: &f.name})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("listing nodegroups of cluster %q: %w", f.name, err)
		}
		ngs = append(ngs, page.Nodegroups...)
	}
	r.info("cleaning up AWS load balancers created by Kubernetes objects of Kind Service or Ingress")
	r.info("%d sequential tasks: { delete %d nodegroup(s), delete cluster control plane %q }", 2, len(ngs), f.name)
	var g errgroup.Group
	for _, ng := range ngs {
		stack := "eksctl-" + f.name + "-nodegroup-" + ng
		r.info("will delete stack %q", stack)
		g.Go(func() error {
			if _, err := eksc.DeleteNodegroup(ctx, &eks.DeleteNodegroupInput{ClusterName: &f.name, NodegroupName: aws.String(ng)}); err != nil {
				return fmt.Errorf("deleting stack %q: %w", stack, err)
			}
			r.info("waiting for stack %q to get deleted", stack)
			w := eks.NewNodegroupDeletedWaiter(eksc, func(o *eks.NodegroupDeletedWaiterOptions) { o.MinDelay, o.MaxDelay = r.o.Poll, 4*r.o.Poll })
			if err := w.Wait(ctx, &eks.DescribeNodegroupInput{ClusterName: &f.name, NodegroupName: aws.String(ng)}, f.timeout); err != nil {
				return fmt.Errorf("waiting for stack %q to get deleted: %w", stack, err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	stack := "eksctl-" + f.name + "-cluster"
	r.info("will delete stack %q", stack)
	if _, err := eksc.DeleteCluster(ctx, &eks.DeleteClusterInput{Name: &f.name}); err != nil {
		return fmt.Errorf("deleting stack %q: %w", stack, err)
	}
	if f.wait {
		r.info("waiting for stack %q to get deleted", stack)
		w := eks.NewClusterDeletedWaiter(eksc, func(o *eks.ClusterDeletedWaiterOptions) { o.MinDelay, o.MaxDelay = r.o.Poll, 4*r.o.Poll })
		if err := w.Wait(ctx, &eks.DescribeClusterInput{Name: &f.name}, f.timeout); err != nil {
			return fmt.Errorf("waiting for stack %q to get deleted: %w", stack, err)
		}
	}
	r.success("all cluster resources were deleted")
	return nil
}

type deleteNodegroupFlags struct {
	cluster, name, region string
	wait                  bool
	timeout               time.Duration
}

func (r *runner) deleteNodegroupCmd() *cobra.Command {
	f := &deleteNodegroupFlags{}
	cmd := &cobra.Command{
		Use:     "nodegroup",
		Aliases: []string{"ng"},
		Short:   "Delete a nodegroup",
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				f.name = args[0]
			}
			if f.cluster == "" || f.name == "" {
				return errors.New("--cluster and --name must be set")
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), f.timeout)
			defer cancel()
			cfg, err := r.o.AWS(ctx, f.region)
			if err != nil {
				return err
			}
			eksc := eks.NewFromConfig(cfg)
			stack := "eksctl-" + f.cluster + "-nodegroup-" + f.name
			r.info("will delete stack %q", stack)
			if _, err := eksc.DeleteNodegroup(ctx, &eks.DeleteNodegroupInput{ClusterName: &f.cluster, NodegroupName: &f.name}); err != nil {
				return fmt.Errorf("deleting nodegroup %q: %w", f.name, err)
			}
			if f.wait {
				r.info("waiting for stack %q to get deleted", stack)
				w := eks.NewNodegroupDeletedWaiter(eksc, func(o *eks.NodegroupDeletedWaiterOptions) { o.MinDelay, o.MaxDelay = r.o.Poll, 4*r.o.Poll })
				if err := w.Wait(ctx, &eks.DescribeNodegroupInput{ClusterName: &f.cluster, NodegroupName: &f.name}, f.timeout); err != nil {
					return fmt.Errorf("waiting for stack %q to get deleted: %w", stack, err)
				}
			}
			r.success("deleted 1 nodegroup(s) from cluster %q", f.cluster)
			return nil
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&f.cluster, "cluster", "", "EKS cluster name")
	fs.StringVarP(&f.name, "name", "n", "", "Name of the nodegroup to delete")
	fs.StringVarP(&f.region, "region", "r", "", "AWS region")
	fs.BoolVarP(&f.wait, "wait", "w", false, "wait for deletion of all resources before exiting")
	fs.DurationVar(&f.timeout, "timeout", waitMax, "maximum waiting time for any long-running operation")
	return cmd
}
