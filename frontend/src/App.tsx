import { Center, Loader } from '@mantine/core';
import { lazy, Suspense, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
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
// of the app), loaded only when an administrator opens it, with its words ("admin").
const ScriptEditorPage = lazy(withWords(() => import('./admin/ScriptEditorPage'), 'admin'));
const UsersPage = lazy(withWords(() => import('./admin/UsersPage'), 'operator', 'admin'));
const OrdersPage = lazy(withWords(() => import('./admin/OrdersPage'), 'admin'));
const AuditLogPage = lazy(() => import('./admin/AuditLogPage'));
const withAuditWords = <T,>(load: () => Promise<T>) => withWords(load, 'operator', 'audit');
const PeoplePage = lazy(withWords(() => import('./operator/PeoplePage'), 'operator'));
const PersonPage = lazy(withAuditWords(() => import('./operator/PersonPage')));
const OperatorCardPage = lazy(withAuditWords(() => import('./operator/CardPage')));
// An order's page shows the options it was made with in the administration's words.
const OperatorOrderPage = lazy(withWords(() => import('./operator/OrderPage'), 'operator', 'audit', 'admin'));
// The Cards page (its menus, the revoke dialog) loads when a person opens it: the first
// load stays within the bundle budget.
const CardsPage = lazy(() => import('./cards/CardsPage').then((m) => ({ default: m.CardsPage })));
// GraphiQL and its Monaco editor are several times the size of the rest of the app.
const PlaygroundPage = lazy(withWords(() => import('./admin/PlaygroundPage'), 'admin'));
// The wizard (its steps, dialogs and every process's words in use) loads when an order is opened.
const OrderWizardPage = lazy(() => import('./wizard/OrderWizardPage').then((m) => ({ default: m.OrderWizardPage })));
const StartOrderPage = lazy(() => import('./wizard/StartOrderPage').then((m) => ({ default: m.StartOrderPage })));

function PageLoader({ label }: { label?: string }) {
  const { t } = useTranslation();
  return (
    <Center py="xl">
      <Loader aria-label={label ?? t('loading')} />
    </Center>
  );
}

export function App() {
  const { session } = useSession();
  const { t } = useTranslation();
  if (session.status === 'loading') return <PageLoader />;
  if (session.status === 'error') {
    const message = session.httpStatus ? t('session.answered', { status: session.httpStatus }) : t('session.unreachable');
    return <ErrorPage message={message} />;
  }
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
