export { dashboardRoutes, DASHBOARD_PATH, type DashboardExtras } from './routes.js';
export { lazyQuery } from './lazy-query.js';
export { readRulesFile, type RuleView } from './rules-file.js';
