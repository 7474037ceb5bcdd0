package tui

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/spinner"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"github.com/eksbg/eksbg/internal/capacity"
	"github.com/eksbg/eksbg/internal/config"
	"github.com/eksbg/eksbg/internal/drift"
)

// screen is the state of the root model: which screen is up.
type screen int

const (
	screenEnvs screen = iota
	screenDetail
	screenWizard
	screenProgress
	screenTraffic
)

func (s screen) String() string {
	return [...]string{"environments", "detail", "upgrade", "progress", "traffic"}[s]
}

// DefaultRefresh is how often the environments' status is read again.
const DefaultRefresh = 15 * time.Second

// animEvery is the spinners' frame time.
const animEvery = 100 * time.Millisecond

// Options configure the TUI.
type Options struct {
	// Backend does the work; required.
	Backend Backend
	// Env, when set, opens on that environment (its progress screen if it
	// has an open upgrade, else its detail).
	Env string
	// NoColor renders without colour (NO_COLOR, --no-color): the Ascii
	// profile. Otherwise the profile is the output terminal's.
	NoColor bool
	// Output is where the TUI draws, for the colour profile (default
	// os.Stdout).
	Output io.Writer
	// Now is the clock (default time.Now); spinners and elapsed times read
	// it, so a fixed clock gives fixed frames.
	Now func() time.Time
	// Refresh is how often the status of every environment is read again
	// (default DefaultRefresh; negative turns it off).
	Refresh time.Duration
	// Location is the time zone of the times shown (default time.Local).
	Location *time.Location
}

// envData is what the TUI knows of one environment.
type envData struct {
	status        *Status
	statusErr     error
	statusLoading bool
	// statusSeq orders the status against the weights of events.
	statusSeq    int
	drift        *drift.EnvResult
	driftErr     error
	driftLoading bool
	capacity     *capacity.Report
	capErr       error
	capLoading   bool
	// run is the environment's operation, or its open journal's position.
	run *run
}

// common is what every screen shares: size, styles, keys, the clock, the
// backend and the data read so far.
type common struct {
	ctx     context.Context
	backend Backend
	keys    KeyMap
	st      *styles
	now     func() time.Time
	loc     *time.Location
	refresh time.Duration
	// tick is tea.Tick; the Update tests replace it so that every Cmd they
	// run returns at once.
	tick func(time.Duration, func(time.Time) tea.Msg) tea.Cmd
	// watch waits for ctx to end (SIGINT, SIGTERM); nil in the Update tests.
	watch tea.Cmd

	width, height int

	envs        []config.Environment
	envsErr     error
	envsLoading bool
	data        map[string]*envData
	lastID      int
	seq         int
	animating   bool

	// flash is a one-line message under the body (an error, a hint).
	flash      string
	flashLevel logLevel
}

func (c *common) env(name string) *config.Environment {
	for i := range c.envs {
		if c.envs[i].Name == name {
			return &c.envs[i]
		}
	}
	return nil
}

func (c *common) d(name string) *envData {
	d := c.data[name]
	if d == nil {
		d = &envData{}
		c.data[name] = d
	}
	return d
}

func (c *common) say(level logLevel, format string, args ...any) {
	c.flash, c.flashLevel = fmt.Sprintf(format, args...), level
}

// busy reports whether anything animates: a load or an operation.
func (c *common) busy() bool {
	if c.envsLoading {
		return true
	}
	for _, d := range c.data {
		if d.driftLoading || d.capLoading || (d.run != nil && d.run.running) {
			return true
		}
	}
	return false
}

// spin is the spinner frame at the current time.
func (c *common) spin() string {
	f := spinner.MiniDot.Frames
	return f[int(c.now().UnixMilli()/animEvery.Milliseconds())%len(f)]
}

// bodyHeight is the lines between the header and the two bottom lines
// (message and help).
func (c *common) bodyHeight() int { return max(c.height-3, 1) }

// Model is the TUI's root model.
type Model struct {
	c     *common
	state screen
	// env is the environment the detail, wizard, progress and traffic
	// screens show.
	env string

	list     envList
	detail   detailView
	wizard   wizard
	progress progressView
	traffic  trafficView
	help     help.Model

	fullHelp    bool
	confirm     *confirmation
	confirmQuit bool
	quitting    bool
	// land is set until the first key: an environment with an open
	// upgrade found by then opens on its progress screen.
	land     bool
	openWith string
}

// New returns the root model.
func New(ctx context.Context, o Options) Model {
	out := o.Output
	if out == nil {
		out = io.Discard
	}
	r := lipgloss.NewRenderer(out)
	if o.NoColor {
		r.SetColorProfile(termenv.Ascii)
	}
	now := o.Now
	if now == nil {
		now = time.Now
	}
	refresh := o.Refresh
	if refresh == 0 {
		refresh = DefaultRefresh
	}
	loc := o.Location
	if loc == nil {
		loc = time.Local
	}
	c := &common{ctx: ctx, backend: o.Backend, keys: DefaultKeyMap(), st: newStyles(r), now: now, loc: loc, refresh: refresh,
		tick: tea.Tick, width: 80, height: 24, data: map[string]*envData{}, envsLoading: true}
	c.watch = func() tea.Msg {
		<-ctx.Done()
		return ctxDoneMsg{}
	}
	h := help.New()
	h.Styles = c.st.help
	return Model{c: c, help: h, land: true, openWith: o.Env, wizard: newWizard(c), traffic: newTrafficView(c),
		detail: newDetailView(), progress: newProgressView()}
}

// Run runs the TUI on the terminal of in and out until the user quits or
// ctx ends (the caller's SIGINT and SIGTERM). An operation still running is
// interrupted first, and the TUI quits once it has journaled where it
// stopped; then Run returns ctx's error, if any.
func Run(ctx context.Context, o Options, in io.Reader, out io.Writer) error {
	if o.Output == nil {
		o.Output = out
	}
	// No signal handler of bubbletea's: ctx is the one way signals come in,
	// so that they too wait for the operations to journal.
	p := tea.NewProgram(New(ctx, o), tea.WithInput(in), tea.WithOutput(out), tea.WithAltScreen(), tea.WithoutSignalHandler())
	if _, err := p.Run(); err != nil {
		return err
	}
	return ctx.Err()
}

// Messages: every Cmd returns one of these.
type (
	envsMsg struct {
		envs []config.Environment
		err  error
	}
	statusMsg struct {
		env string
		st  *Status
		err error
	}
	driftMsg struct {
		env string
		res *drift.EnvResult
		err error
	}
	capacityMsg struct {
		env string
		rep *capacity.Report
		err error
	}
	refreshMsg struct{}
	animMsg    struct{}
	// ctxDoneMsg says the TUI's context ended.
	ctxDoneMsg struct{}
)

// Init loads the environments and starts the background refresh.
func (m Model) Init() tea.Cmd {
	cmds := []tea.Cmd{loadEnvs(m.c), m.c.animate(), m.c.watch}
	if m.c.refresh > 0 {
		cmds = append(cmds, m.c.tick(m.c.refresh, func(time.Time) tea.Msg { return refreshMsg{} }))
	}
	return tea.Batch(cmds...)
}

func loadEnvs(c *common) tea.Cmd {
	ctx, b := c.ctx, c.backend
	return func() tea.Msg {
		envs, err := b.Environments(ctx)
		return envsMsg{envs, err}
	}
}

// load runs fetch unless *loading says one is in flight, and animates
// the spinners meanwhile.
func (c *common) load(loading *bool, fetch tea.Cmd) tea.Cmd {
	if *loading {
		return nil
	}
	*loading = true
	return tea.Batch(fetch, c.animate())
}

// loadStatus reads an environment's status unless a read is in flight.
func (c *common) loadStatus(env string) tea.Cmd {
	ctx, b := c.ctx, c.backend
	return c.load(&c.d(env).statusLoading, func() tea.Msg {
		st, err := b.Status(ctx, env)
		return statusMsg{env, st, err}
	})
}

// loadDrift runs the drift check of an environment unless one runs.
func (c *common) loadDrift(env string) tea.Cmd {
	ctx, b := c.ctx, c.backend
	return c.load(&c.d(env).driftLoading, func() tea.Msg {
		res, err := b.Drift(ctx, env)
		return driftMsg{env, res, err}
	})
}

// loadCapacity runs the capacity check of an environment unless one runs.
func (c *common) loadCapacity(env string) tea.Cmd {
	ctx, b := c.ctx, c.backend
	return c.load(&c.d(env).capLoading, func() tea.Msg {
		rep, err := b.Capacity(ctx, env, "")
		return capacityMsg{env, rep, err}
	})
}

// animate starts the spinner tick unless it runs.
func (c *common) animate() tea.Cmd {
	if c.animating {
		return nil
	}
	c.animating = true
	return c.tick(animEvery, func(time.Time) tea.Msg { return animMsg{} })
}

// Update handles one message. It does no I/O: whatever needs the network
// is a Cmd.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	c := m.c
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		c.width, c.height = msg.Width, msg.Height
		m.help.Width = msg.Width
		m.detail = m.detail.resize(c, m.env)
		m.progress = m.progress.resize(c, m.env)
		m.wizard = m.wizard.resize(c)
		return m, nil
	case tea.KeyMsg:
		return m.key(msg)
	case ctxDoneMsg:
		return m.quit()
	case animMsg:
		c.animating = false
		if c.busy() {
			return m, c.animate()
		}
		return m, nil
	case refreshMsg:
		var cmds []tea.Cmd
		for _, e := range c.envs {
			cmds = append(cmds, c.loadStatus(e.Name))
		}
		cmds = append(cmds, c.tick(c.refresh, func(time.Time) tea.Msg { return refreshMsg{} }))
		return m, tea.Batch(cmds...)
	case envsMsg:
		c.envsLoading = false
		c.envs, c.envsErr = msg.envs, msg.err
		if msg.err != nil {
			c.say(levelError, "reading the project: %v", msg.err)
			return m, nil
		}
		var cmds []tea.Cmd
		for _, e := range c.envs {
			cmds = append(cmds, c.loadStatus(e.Name), c.loadDrift(e.Name))
		}
		if m.openWith != "" && c.env(m.openWith) != nil {
			var cmd tea.Cmd
			m, cmd = m.open(screenDetail, m.openWith)
			cmds = append(cmds, cmd)
		}
		return m, tea.Batch(cmds...)
	case statusMsg:
		return m.onStatus(msg)
	case driftMsg:
		d := c.d(msg.env)
		d.driftLoading, d.driftErr = false, msg.err
		if msg.err == nil {
			d.drift = msg.res
		}
		m.detail = m.detail.refresh(c, m.env)
		return m, nil
	case capacityMsg:
		d := c.d(msg.env)
		d.capLoading, d.capErr = false, msg.err
		if msg.err == nil {
			d.capacity = msg.rep
		}
		m.detail = m.detail.refresh(c, m.env)
		return m, nil
	case versionsMsg, planMsg:
		var cmd tea.Cmd
		m.wizard, cmd = m.wizard.update(msg, c)
		return m, cmd
	case eventMsg:
		return m.onEvent(msg)
	case opDoneMsg:
		return m.onOpDone(msg)
	}
	// Anything else (the text inputs' cursor blinks) goes to the screen
	// that may have an input.
	var cmd tea.Cmd
	switch m.state {
	case screenWizard:
		m.wizard, cmd = m.wizard.update(msg, c)
	case screenTraffic:
		m.traffic, cmd = m.traffic.update(msg, c)
	}
	return m, cmd
}

func (m Model) onStatus(msg statusMsg) (tea.Model, tea.Cmd) {
	c := m.c
	d := c.d(msg.env)
	d.statusLoading, d.statusErr = false, msg.err
	if msg.err != nil {
		c.say(levelError, "status of %s: %v", msg.env, msg.err)
		return m, nil
	}
	c.seq++
	d.status, d.statusSeq = msg.st, c.seq
	// A run this TUI did not start (or that has ended) follows the journal.
	if j := msg.st.openJournal(); j != nil && (d.run == nil || (d.run.id == 0 && !d.run.running)) {
		d.run = fromJournal(j)
	} else if j == nil && d.run != nil && d.run.id == 0 {
		d.run = nil
	}
	if m.land && msg.st.openJournal() != nil && (m.openWith == "" || m.openWith == msg.env) &&
		(m.state == screenEnvs || (m.state == screenDetail && m.env == msg.env)) {
		m.land = false
		j := msg.st.Journal
		c.say(levelWarn, "%s has an open upgrade to %s: c continues it, b rolls it back", msg.env, j.To.Version)
		return m.open(screenProgress, msg.env)
	}
	m.detail = m.detail.refresh(c, m.env)
	m.progress = m.progress.refresh(c, m.env)
	return m, nil
}

// open switches to a screen on an environment.
func (m Model) open(s screen, env string) (Model, tea.Cmd) {
	c := m.c
	m.state, m.env = s, env
	var cmds []tea.Cmd
	switch s {
	case screenDetail:
		d := c.d(env)
		if d.capacity == nil && d.capErr == nil {
			cmds = append(cmds, c.loadCapacity(env))
		}
		m.detail = m.detail.open(c, env)
	case screenProgress:
		m.progress = m.progress.open(c, env)
	case screenTraffic:
		m.traffic = m.traffic.open(c, env)
	case screenWizard:
		var cmd tea.Cmd
		m.wizard, cmd = m.wizard.open(c, env)
		cmds = append(cmds, cmd)
	}
	return m, tea.Batch(cmds...)
}

// back leaves a screen: the screens of one environment go back to its
// detail, the detail to the list.
func (m Model) back() (Model, tea.Cmd) {
	if m.state == screenDetail || m.env == "" {
		m.state = screenEnvs
		return m, nil
	}
	return m.open(screenDetail, m.env)
}

func (m Model) key(k tea.KeyMsg) (tea.Model, tea.Cmd) {
	c := m.c
	// Keys typed faster than the terminal is read come as one message of
	// several runes ("jjj"): outside a text input each is a key of its own.
	if k.Type == tea.KeyRunes && len(k.Runes) > 1 && !k.Paste && !m.typing() {
		var cmds []tea.Cmd
		var next tea.Model = m
		for _, r := range k.Runes {
			var cmd tea.Cmd
			next, cmd = next.(Model).key(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}, Alt: k.Alt})
			cmds = append(cmds, cmd)
		}
		return next, tea.Batch(cmds...)
	}
	keys := c.keys
	m.land = false
	// A message lasts until the next key.
	c.flash = ""
	if m.fullHelp {
		if key.Matches(k, keys.Help, keys.Back, keys.Quit) {
			m.fullHelp = false
		}
		return m, nil
	}
	if q := m.confirm; q != nil {
		m.confirm = nil
		switch {
		case key.Matches(k, keys.Yes):
			return m.startOp(q.env, q.yes)
		case q.alt != nil && key.Matches(k, keys.DeleteGreen):
			return m.startOp(q.env, *q.alt)
		}
		c.say(levelInfo, "cancelled")
		return m, nil
	}
	if m.confirmQuit {
		m.confirmQuit = false
		if key.Matches(k, keys.Quit, keys.Yes) {
			return m.quit()
		}
		c.say(levelInfo, "")
		return m, nil
	}
	// A text input takes every key but ctrl+c.
	if m.typing() && k.String() != "ctrl+c" {
		return m.screenKey(k)
	}
	switch {
	case key.Matches(k, keys.Quit):
		if m.quitting {
			return m, tea.Quit // a second Ctrl-C while operations stop
		}
		if n := m.running(); n != "" {
			m.confirmQuit = true
			c.say(levelWarn, "%s is running on %s: quitting interrupts it (the journal records where). Quit? y/q, any other key stays", c.d(n).run.spec, n)
			return m, nil
		}
		return m.quit()
	case key.Matches(k, keys.Help):
		m.fullHelp = true
		return m, nil
	}
	return m.screenKey(k)
}

func (m Model) screenKey(k tea.KeyMsg) (tea.Model, tea.Cmd) {
	switch m.state {
	case screenDetail:
		return m.detailKey(k)
	case screenWizard:
		return m.wizardKey(k)
	case screenProgress:
		return m.progressKey(k)
	case screenTraffic:
		return m.trafficKey(k)
	}
	return m.envsKey(k)
}

// typing reports whether a text input has the keys.
func (m Model) typing() bool {
	switch m.state {
	case screenWizard:
		return m.wizard.typing()
	case screenTraffic:
		return m.traffic.typing
	}
	return false
}

// running names an environment with an operation in progress.
func (m Model) running() string {
	for _, e := range m.c.envs {
		if d := m.c.data[e.Name]; d != nil && d.run != nil && d.run.running {
			return e.Name
		}
	}
	return ""
}

// quit interrupts the operations in progress and quits once they have
// returned, so that each journals where it stopped.
func (m Model) quit() (tea.Model, tea.Cmd) {
	m.quitting = true
	if m.running() == "" {
		return m, tea.Quit
	}
	for _, d := range m.c.data {
		if d.run != nil && d.run.running {
			d.run.stopping, d.run.next = true, nil
			d.run.cancel()
		}
	}
	m.c.say(levelWarn, "interrupting: waiting for the operation to journal where it stopped (ctrl+c again quits at once)")
	return m, nil
}

// View draws the screen: a header, the body, a message line and the help.
func (m Model) View() string {
	c := m.c
	w := c.width
	var body string
	var keys keySet
	switch {
	case m.fullHelp:
		body, keys = m.fullHelpView(), keySet{short: []key.Binding{c.keys.Help, c.keys.Back}}
	case m.state == screenDetail:
		body, keys = m.detail.view(c, m.env), m.detailKeys()
	case m.state == screenWizard:
		body, keys = m.wizard.view(c), m.wizardKeys()
	case m.state == screenProgress:
		body, keys = m.progress.view(c, m.env), m.progressKeys()
	case m.state == screenTraffic:
		body, keys = m.traffic.view(c, m.env), m.trafficKeys()
	default:
		body, keys = m.list.view(c), m.envsKeys()
	}
	bh := c.bodyHeight()
	var prompt []string
	if m.confirm != nil {
		for _, l := range strings.Split(m.confirm.text, "\n") {
			prompt = append(prompt, clip(c.st.prompt.Render(" "+l), w))
		}
		// The question takes the body's last line and the message line.
		bh -= len(prompt) - 1
	}
	flash := ""
	if c.flash != "" {
		st := c.st.dim
		switch c.flashLevel {
		case levelWarn:
			st = c.st.warn
		case levelError:
			st = c.st.errorLine
		}
		flash = st.Render(c.flash)
	}
	parts := []string{clip(m.header(), w), fit(body, w, bh)}
	if prompt != nil {
		parts = append(parts, prompt...)
	} else {
		parts = append(parts, clip(flash, w))
	}
	if m.confirm != nil {
		keys = keySet{short: []key.Binding{c.keys.Yes, c.keys.Back}}
		if m.confirm.alt != nil {
			keys.short = []key.Binding{c.keys.Yes, c.keys.DeleteGreen, c.keys.Back}
		}
	}
	parts = append(parts, clip(m.help.ShortHelpView(keys.short), w))
	return strings.Join(parts, "\n")
}

// header is the breadcrumb and, on the right, the operation in progress.
func (m Model) header() string {
	c := m.c
	crumbs := []string{c.st.title.Render("eksbg")}
	if m.state != screenEnvs && m.env != "" {
		crumbs = append(crumbs, c.st.bold.Render(m.env))
		if m.state != screenDetail {
			crumbs = append(crumbs, c.st.crumb.Render(m.state.String()))
		}
	} else {
		crumbs = append(crumbs, c.st.crumb.Render("environments"))
	}
	right := ""
	if m.env != "" && m.state != screenEnvs {
		if r := c.d(m.env).run; r != nil && r.running {
			right = c.st.info.Render(fmt.Sprintf("%s %s %s", c.spin(), r.spec, clock(c.now().Sub(r.started))))
		}
	} else if n := m.running(); n != "" {
		right = c.st.info.Render(fmt.Sprintf("%s %s: %s", c.spin(), n, c.d(n).run.spec))
	}
	return spread(" "+strings.Join(crumbs, c.st.dim.Render(" › ")), right+" ", c.width)
}
