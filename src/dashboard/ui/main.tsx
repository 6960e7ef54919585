// The dashboard's UI: three tabs (graph, config health, route explainer), keyboard reachable, the tab
// kept in the URL hash so a view can be linked to.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { GraphView } from './graph-view.js';
import { HealthView } from './health-view.js';
import { ExplainView } from './explain-view.js';

const TABS = [
  { id: 'graph', title: 'Graph' },
  { id: 'health', title: 'Config health' },
  { id: 'explain', title: 'Route explainer' },
] as const;

type TabId = (typeof TABS)[number]['id'];

function fromHash(): TabId {
  const h = location.hash.slice(1);
  return TABS.some((t) => t.id === h) ? (h as TabId) : 'graph';
}

function App() {
  const [tab, setTab] = useState<TabId>(fromHash());
  useEffect(() => {
    const on = (): void => setTab(fromHash());
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  const go = (id: TabId): void => {
    location.hash = id;
    setTab(id);
  };
  const onKey = (e: KeyboardEvent): void => {
    if (e.key !== 'ArrowRight' && e.key !== 'ArrowLeft') return;
    const i = TABS.findIndex((t) => t.id === tab);
    const next = TABS[(i + (e.key === 'ArrowRight' ? 1 : TABS.length - 1)) % TABS.length];
    go(next.id);
    document.getElementById(`tab-${next.id}`)?.focus();
  };
  return (
    <>
      <header>
        <h1>Mizzen</h1>
        <nav role="tablist" aria-label="views" onKeyDown={onKey}>
          {TABS.map((t) => (
            <button
              key={t.id}
              id={`tab-${t.id}`}
              role="tab"
              aria-selected={tab === t.id}
              aria-controls={`panel-${t.id}`}
              tabIndex={tab === t.id ? 0 : -1}
              onClick={() => go(t.id)}
            >
              {t.title}
            </button>
          ))}
        </nav>
      </header>
      <main>
        <div id={`panel-${tab}`} role="tabpanel" aria-labelledby={`tab-${tab}`}>
          {tab === 'graph' ? <GraphView /> : tab === 'health' ? <HealthView /> : <ExplainView />}
        </div>
      </main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
