/* global document */
/**
 * The Budgets tab's limit forms: each of the four limits as it stands, where it comes from (the
 * environment or the console), and setting it to an amount, to no limit, or back to the environment's.
 */
import { api, HOME, run, setStatus } from './api.js';
import { $ } from './dom.js';
import { fmtTime, fmtUsd, isNumber } from './format.js';

const KEYS = { dayUsd: 'day', monthUsd: 'month', tenantDayUsd: 'tenant-day', tenantMonthUsd: 'tenant-month' };
const VARIABLES = { dayUsd: 'AI_BUDGET_USD_PER_DAY', monthUsd: 'AI_BUDGET_USD_PER_MONTH', tenantDayUsd: 'AI_BUDGET_USD_PER_TENANT_PER_DAY', tenantMonthUsd: 'AI_BUDGET_USD_PER_TENANT_PER_MONTH' };
const NAMES = { dayUsd: 'per-day', monthUsd: 'per-month', tenantDayUsd: 'per-tenant daily', tenantMonthUsd: 'per-tenant monthly' };

const amount = (n) => (isNumber(n) ? fmtUsd(n) : 'no limit');

/** Show each limit in force and its source (the budgets view, GET /console/api/budgets). */
export function showLimits(view) {
  for (const [name, key] of Object.entries(KEYS)) {
    const value = view?.limits?.[name];
    $(`limit-${key}`).textContent = isNumber(value) ? fmtUsd(value) : 'none';
    const fromConsole = view?.sources?.[name] === 'console';
    const environment = view?.environment?.[name];
    const source = fromConsole
      ? `Set in the console ${fmtTime(view?.setAt?.[name])}; ${VARIABLES[name]} ${isNumber(environment) ? `is ${fmtUsd(environment)}` : 'is not set'}.`
      : `From the environment: ${VARIABLES[name]}${isNumber(environment) ? '' : ' is not set'}.`;
    $(`limit-${key}-source`).textContent = source;
    $(`limit-${key}-source`).dataset.source = fromConsole ? 'console' : 'environment';
    document.querySelector(`form[data-limit="${name}"] [data-usd="environment"]`).disabled = !fromConsole;
  }
}

/** Wire the four forms once; `reload` shows the budgets again after a change. */
export function setUpLimitForms(reload) {
  for (const form of document.querySelectorAll('form.limit-form')) {
    const name = form.dataset.limit;
    const input = form.elements.namedItem('usd');
    const change = (usd, button) =>
      run(async () => {
        const answer = await api(`${HOME}/api/budgets/limit`, { body: { limit: name, usd } });
        input.value = '';
        const now = answer?.source === 'environment' ? `back to the environment's, ${amount(answer.newUsd)}` : amount(answer?.newUsd);
        setStatus(`The ${NAMES[name]} budget is now ${now} (was ${amount(answer?.oldUsd)}): every process applies it within 5 s.`);
        await reload();
        // "Environment's" disables itself once the limit is the environment's: the focus goes to the amount, not to the top of the page.
        if (button?.disabled && (document.activeElement === document.body || document.activeElement === button)) input.focus();
      });
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      change(Number(input.value));
    });
    for (const button of form.querySelectorAll('button[data-usd]')) button.addEventListener('click', () => change(button.dataset.usd === 'none' ? null : 'environment', button));
  }
}
