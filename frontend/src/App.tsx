import { Center, Loader } from '@mantine/core';
import { lazy, Suspense, type ReactNode } from 'react';
import { Navigate, Route, Routes } from 'react-router';

import { isAdmin, useSession } from './auth/session';
import i18n from './i18n';
import { isOperator } from './operator/role';
import { AppLayout } from './layout/AppLayout';
import { ErrorPage } from './layout/ErrorPage';
import { DashboardPage } from './pages/DashboardPage';
import { LandingPage } from './pages/LandingPage';
import { NotFoundPage } from './pages/NotFoundPage';

// Pages get their lazily loaded namespaces ("operator", and "audit" where they tell audit
// events in words) before they render.
const withWords =
  <T,>(load: () => Promise<T>, ...ns: string[]) =>
  () =>
    Promise.all([load(), i18n.loadNamespaces(ns)]).then(([m]) => m);
// Administration is split into chunks of its own (CodeMirror alone is larger than the rest
// of the app), loaded only when an administrator opens it.
const ScriptEditorPage = lazy(() => import('./admin/ScriptEditorPage'));
const UsersPage = lazy(withWords(() => import('./admin/UsersPage'), 'operator'));
const OrdersPage = lazy(() => import('./admin/OrdersPage'));
const AuditLogPage = lazy(() => import('./admin/AuditLogPage'));
const withAuditWords = <T,>(load: () => Promise<T>) => withWords(load, 'operator', 'audit');
const PeoplePage = lazy(withWords(() => import('./operator/PeoplePage'), 'operator'));
const PersonPage = lazy(withAuditWords(() => import('./operator/PersonPage')));
const OperatorCardPage = lazy(withAuditWords(() => import('./operator/CardPage')));
const OperatorOrderPage = lazy(withAuditWords(() => import('./operator/OrderPage')));
// The Cards page (its menus, the revoke dialog) loads when a person opens it: the first
// load stays within the bundle budget.
const CardsPage = lazy(() => import('./cards/CardsPage').then((m) => ({ default: m.CardsPage })));
// GraphiQL and its Monaco editor are several times the size of the rest of the app.
const PlaygroundPage = lazy(() => import('./admin/PlaygroundPage'));
// The wizard (its steps, dialogs and every process's words in use) loads when an order is opened.
const OrderWizardPage = lazy(() => import('./wizard/OrderWizardPage').then((m) => ({ default: m.OrderWizardPage })));
const StartOrderPage = lazy(() => import('./wizard/StartOrderPage').then((m) => ({ default: m.StartOrderPage })));

function PageLoader({ label = 'Loading' }: { label?: string }) {
  return (
    <Center py="xl">
      <Loader aria-label={label} />
    </Center>
  );
}

export function App() {
  const { session } = useSession();
  if (session.status === 'loading') return <PageLoader />;
  if (session.status === 'error') return <ErrorPage message={session.message} />;
  if (session.status === 'anonymous') {
    return (
      <AppLayout>
        <LandingPage />
      </AppLayout>
    );
  }
  const admin = isAdmin(session.user);
  const wizardPage = (page: ReactNode) => <Suspense fallback={<PageLoader label={i18n.t('wizard:page.loading')} />}>{page}</Suspense>;
  const adminOnly = (page: ReactNode) => (admin ? <Suspense fallback={<PageLoader />}>{page}</Suspense> : <NotFoundPage />);
  const operatorOnly = (page: ReactNode) =>
    isOperator(session.user) ? <Suspense fallback={<PageLoader />}>{page}</Suspense> : <NotFoundPage />;
  return (
    <AppLayout>
      <Routes>
        <Route path="/" element={<DashboardPage />} />
        <Route path="/get-virtual-smart-card" element={wizardPage(<StartOrderPage />)} />
        <Route path="/orders/:id" element={wizardPage(<OrderWizardPage />)} />
        <Route
          path="/cards"
          element={
            <Suspense fallback={<PageLoader />}>
              <CardsPage />
            </Suspense>
          }
        />
        <Route path="/operator" element={<Navigate to="/operator/people" replace />} />
        <Route path="/operator/people" element={operatorOnly(<PeoplePage />)} />
        <Route path="/operator/people/:id" element={operatorOnly(<PersonPage />)} />
        <Route path="/operator/cards/:serial" element={operatorOnly(<OperatorCardPage />)} />
        <Route path="/operator/orders/:id" element={operatorOnly(<OperatorOrderPage />)} />
        {/* The audit log is the help desk's too (the server lets operators read and export it). */}
        <Route path="/operator/audit" element={operatorOnly(<AuditLogPage />)} />
        <Route path="/admin" element={<Navigate to="/admin/script" replace />} />
        <Route path="/admin/script" element={adminOnly(<ScriptEditorPage />)} />
        <Route path="/admin/users" element={adminOnly(<UsersPage />)} />
        <Route path="/admin/orders" element={adminOnly(<OrdersPage />)} />
        <Route path="/admin/audit" element={adminOnly(<AuditLogPage />)} />
        {/* The server also refuses /playground to non-administrators when it is loaded directly. */}
        <Route path="/playground" element={adminOnly(<PlaygroundPage />)} />
        <Route path="*" element={<NotFoundPage />} />
      </Routes>
    </AppLayout>
  );
}
