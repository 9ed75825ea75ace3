/** Budgets and alerts: the Budgets tab, and the budget and alert lists the overview shows too. */
import { api, HOME } from './api.js';
import { showLimits } from './budget-limits.js';
import { $, el, setText } from './dom.js';
import { fmtPct, fmtShortTime, fmtTime, fmtUsd, isNumber } from './format.js';

let budgetsSeq = 0;

const POLICIES = {
  notice: 'Past a budget the bot answers with a notice instead of calling the AI.',
  fallback: 'Past a budget the fallback model answers (OPENAI_FALLBACK_MODEL).',
  allow: 'Past a budget the AI keeps answering; it only raises the alerts.',
};

/** The Budgets tab: the overall budgets, the 100 tenant budgets nearest their limit (or those the lookup names), the limits, the alerts. */
export async function loadBudgets() {
  const seq = ++budgetsSeq;
  const tenant = $('budget-lookup-input').value.trim();
  const path = `${HOME}/api/budgets${tenant ? `?tenant=${encodeURIComponent(tenant)}` : ''}`;
  const [view, alerts] = await Promise.all([api(path), api(`${HOME}/api/alerts`)]);
  if (seq !== budgetsSeq) return;
  setText($('budget-policy'), String(view?.policy ?? '–'));
  setText($('policy-explained'), POLICIES[view?.policy] ?? '');
  setText($('alert-webhook'), view?.alertWebhook ? 'set' : 'not set: alerts are only logged');
  showLimits(view);
  renderBudgetList($('budget-list'), view?.budgets, view?.otherBudgets, {
    limits: view?.limits,
    more: tenant ? ': type more of the id to narrow it.' : ': look one up by its id.',
    empty: tenant && view?.limits && (isNumber(view.limits.tenantDayUsd) || isNumber(view.limits.tenantMonthUsd)) ? `No tenant whose id starts with "${tenant}" spent this month.` : undefined,
  });
  const items = newestFirst(alerts?.alerts);
  $('alerts-empty').hidden = items.length > 0;
  $('alert-rows').replaceChildren(
    ...items.map((a) =>
      el(
        'tr',
        { testid: 'alert-row', 'data-kind': a.kind },
        el('td', { className: 'time', text: fmtShortTime(a.at), title: fmtTime(a.at) }),
        el('td', { className: 'mono', text: a.kind }),
        el('td', { className: 'wrap', text: a.text }),
        el('td', { text: a.delivered ? 'delivered' : 'not delivered' }),
      ),
    ),
  );
}

/** The stable test id of a budget row: budget-overall-day, budget-tenant-acme-month. */
function budgetKey(b) {
  return b.scope === 'tenant' ? `budget-tenant-${b.tenant}-${b.period}` : `budget-${b.scope}-${b.period}`;
}

function budgetItem(b) {
  const state = ['ok', 'warning', 'exceeded'].includes(b.state) ? b.state : 'ok';
  const who = b.scope === 'tenant' ? `Tenant ${b.tenant}` : 'Overall';
  const ratio = isNumber(b.ratio) ? b.ratio : 0;
  const bar = el('progress', { max: 1, value: Math.min(Math.max(ratio, 0), 1), 'aria-label': `${who}, ${b.period}: ${fmtPct(ratio)} of the budget` });
  return el(
    'li',
    { className: `budget ${state}`, testid: budgetKey(b) },
    el(
      'div',
      { className: 'line' },
      el('span', {}, el('strong', { text: who }), ` · ${b.period === 'month' ? 'month' : 'day'} ${b.periodKey ?? ''}`),
      el('span', { className: `pill state state-${state}`, testid: `${budgetKey(b)}-state`, text: state }),
    ),
    bar,
    el('div', { className: 'line sub' }, el('span', { text: `${fmtUsd(b.spentUsd)} of ${fmtUsd(b.limitUsd)}` }), el('span', { text: fmtPct(ratio) })),
  );
}

/**
 * `others`: the tenant budgets left out ({ count, warning, exceeded }), said in one line ending
 * with `more`; `empty`: what an empty list says when a budget is set (a lookup found nothing);
 * `limits`: the limits in force, to say a per-tenant budget is set before any tenant spent.
 */
export function renderBudgetList(list, budgets, others, { more = ': see Budgets.', empty, limits } = {}) {
  const items = Array.isArray(budgets) ? budgets : [];
  const tenants = items.some((b) => b.scope === 'tenant');
  const perTenant = [isNumber(limits?.tenantDayUsd) ? `${fmtUsd(limits.tenantDayUsd)} a day` : '', isNumber(limits?.tenantMonthUsd) ? `${fmtUsd(limits.tenantMonthUsd)} a month` : ''].filter(Boolean);
  const unspent = !tenants && !empty && perTenant.length > 0;
  const none = el('li', { className: 'empty', testid: 'budgets-none', text: empty ?? 'No budget is set (AI_BUDGET_USD_PER_DAY, AI_BUDGET_USD_PER_MONTH, or under Budgets & alerts › Limits).' });
  const unspentLine = el('li', { className: 'empty', testid: 'budgets-tenant-unspent', text: `Per-tenant budget: ${perTenant.join(', ')}; no tenant has spent yet.` });
  list.replaceChildren(...items.map(budgetItem), ...(unspent ? [unspentLine] : []), ...((!items.length && !unspent) || (empty && !tenants) ? [none] : []));
  if (isNumber(others?.count) && others.count > 0) {
    const states = [isNumber(others.exceeded) && others.exceeded > 0 ? `${others.exceeded} exceeded` : '', isNumber(others.warning) && others.warning > 0 ? `${others.warning} past 80%` : ''].filter(Boolean);
    list.append(el('li', { className: 'empty', testid: 'other-budgets', text: `${others.count} more tenant budgets${states.length ? ` (${states.join(', ')})` : ''}${more}` }));
  }
}

export function renderAlertList(list, alerts) {
  const items = newestFirst(alerts);
  list.replaceChildren(
    ...(items.length
      ? items.map((a) =>
          el(
            'li',
            { testid: 'alert', 'data-kind': a.kind },
            el('span', { className: 'meta', text: `${fmtTime(a.at)} · ${a.kind}${a.delivered ? '' : ' · not delivered'}` }),
            el('span', { text: a.text }),
          ),
        )
      : [el('li', { className: 'empty', text: 'No alerts.' })]),
  );
}

function newestFirst(alerts) {
  const items = Array.isArray(alerts) ? [...alerts] : [];
  return items.sort((a, b) => (Date.parse(b.at) || 0) - (Date.parse(a.at) || 0));
}
